"""Alembic environment for botwatch, run by :mod:`detector.store.migrate` (there is no alembic.ini).

The caller hands over a connection already inside a transaction (``config.attributes``), so that
a migration commits whole or not at all, on SQLite too, and so that the PostgreSQL schema picked
by the connection's ``search_path`` holds both the tables and Alembic's version table.
"""

from alembic import context

from detector.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run botwatch migrations through detector.store.migrate (botwatch db upgrade), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
