"""throttle events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:16:08.240268
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_event")),
    )
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_event_lookup", ["scope", "key_hash", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_event_lookup")

    op.drop_table("throttle_event")
