"""The reference central server: FastAPI app, storage (SQLite or PostgreSQL), admin operations."""
