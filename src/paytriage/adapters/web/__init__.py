"""Web adapter: FastAPI JSON API (OpenAPI at /docs) and server-rendered pages with local assets."""
