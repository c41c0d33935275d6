"""Load: the scoring cursor, and indexes that keep retention's searches short.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

``scoring_cursors`` lets the scorer's search for unscored replies start where the last one
ended instead of reading every scored reply again each poll. ``ix_posts_created_at_raw_kept``
(partial: posts that still have their raw JSON) and ``ix_accounts_seen_at`` are what the
retention job's oldest-first batches walk. The daily summary counts a watch's day from
``ix_watch_posts_watch_id_role_created_at_post_id`` (replacing the index without ``post_id``)
and ``ix_posts_id_account_id`` without reading the wide post rows; on PostgreSQL the raw JSON
moves out of the row (``toast_tuple_target``). Measured in benchmarks/README.md.

Plain SQLAlchemy types only, as in 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scoring_cursors",
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("scored_before", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watches.id"], name=op.f("fk_scoring_cursors_watch_id_watches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("watch_id", "model_version", name=op.f("pk_scoring_cursors")),
    )
    op.create_index(
        "ix_posts_created_at_raw_kept",
        "posts",
        ["created_at"],
        sqlite_where=sa.text("raw IS NOT NULL"),
        postgresql_where=sa.text("raw IS NOT NULL"),
    )
    op.create_index(op.f("ix_accounts_seen_at"), "accounts", ["seen_at"])
    op.create_index(op.f("ix_posts_id_account_id"), "posts", ["id", "account_id"])
    op.create_index(
        op.f("ix_watch_posts_watch_id_role_created_at_post_id"),
        "watch_posts",
        ["watch_id", "role", "created_at", "post_id"],
    )
    op.drop_index(op.f("ix_watch_posts_watch_id_role_created_at"), table_name="watch_posts")
    if op.get_bind().dialect.name == "postgresql":
        # Move raw JSON (about 1.8 KB a post) out of the row into compressed TOAST storage, so
        # that reading posts by id stays narrow; applies to rows written from now on.
        op.execute("ALTER TABLE posts SET (toast_tuple_target = 128)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE posts RESET (toast_tuple_target)")
    op.create_index(
        op.f("ix_watch_posts_watch_id_role_created_at"), "watch_posts", ["watch_id", "role", "created_at"]
    )
    op.drop_index(op.f("ix_watch_posts_watch_id_role_created_at_post_id"), table_name="watch_posts")
    op.drop_index(op.f("ix_posts_id_account_id"), table_name="posts")
    op.drop_index(op.f("ix_accounts_seen_at"), table_name="accounts")
    op.drop_index("ix_posts_created_at_raw_kept", table_name="posts")
    op.drop_table("scoring_cursors")
