"""Summary: each watch_posts link carries its post's author.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

The daily summary counts a day's replies per watch and author, and reads the replies of each
watch's top authors. ``watch_posts.author_id`` copies the post's ``account_id`` (a post's author
never changes, like the ``created_at`` copied already), so the counts need no join to ``posts``
and ``ix_watch_posts_author_id_watch_id_role_created_at_post_id`` finds an author's replies in a
watch from the index alone. Existing links are filled from their posts. Nullable so that SQLite
can add it in place; botwatch writes it with every link. Measured in benchmarks/README.md.

Plain SQLAlchemy types only, as in 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("watch_posts", sa.Column("author_id", Id, nullable=True))
    op.execute(
        "UPDATE watch_posts SET author_id = (SELECT posts.account_id FROM posts WHERE posts.id = watch_posts.post_id)"
    )
    op.create_index(
        op.f("ix_watch_posts_author_id_watch_id_role_created_at_post_id"),
        "watch_posts",
        ["author_id", "watch_id", "role", "created_at", "post_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_watch_posts_author_id_watch_id_role_created_at_post_id"), table_name="watch_posts")
    with op.batch_alter_table("watch_posts") as batch:
        batch.drop_column("author_id")
