"""HTTP: the FastAPI app (app.py) and its thin routers."""
