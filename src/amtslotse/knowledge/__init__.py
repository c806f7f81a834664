"""Knowledge ingest: loaders turn source files into `Document`s, the splitter cuts them into `Passage`s."""
