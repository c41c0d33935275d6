"""Watch leases, so that several ``botwatch run`` processes can share one database: each watch
gets an owner, the instant its lease expires and a fencing counter; ``workers`` holds each
process's heartbeat (how many are alive decides each one's fair share of the watches).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Plain SQLAlchemy types only, as in 0001. Adding nullable columns (and one with a constant server
default) is a plain ``ALTER TABLE ... ADD COLUMN`` on both databases: no table rewrite, no batch
mode on SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("watches", sa.Column("lease_owner", sa.Text(), nullable=True))
    op.add_column("watches", sa.Column("lease_expires_at", Time, nullable=True))
    op.add_column("watches", sa.Column("lease_epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "workers",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("lease_epoch")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
