"""throttle event source

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.drop_column("source_hash")
