"""Storage: SQLAlchemy tables, the Store repository and Alembic migrations.

SQLite (the embedded default) and PostgreSQL behave the same through this package; see
``repository.py`` for what is stored and when, and ``db.py`` for how each database is set up.
"""

from detector.store.migrate import current_revision, head_revision, upgrade
from detector.store.records import (
    AccountKey,
    AccountScore,
    Label,
    PostKey,
    ReplyForScoring,
    ReplyScore,
    ReportReply,
    Summary,
    TrackedPost,
)
from detector.store.repository import Store

__all__ = [
    "AccountKey",
    "AccountScore",
    "Label",
    "PostKey",
    "ReplyForScoring",
    "ReplyScore",
    "ReportReply",
    "Store",
    "Summary",
    "TrackedPost",
    "current_revision",
    "head_revision",
    "upgrade",
]
