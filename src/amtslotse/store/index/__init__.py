"""The store's in-memory search indexes, derived from its rows: BM25 over analyzed terms
(`lexical`, both stores, through `postings`) and exact cosine search (`dense`, SQLite only;
PostgreSQL searches vectors with pgvector). They belong to the store's engine: `search/`
asks the store (`search_lexical`, `search_dense`), never an index directly."""
