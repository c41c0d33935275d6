"""Storage: SQLAlchemy tables, the Store repository and Alembic migrations."""
