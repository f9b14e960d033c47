"""crypto_state: the algorithm family data at rest is under (standard or national)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 01:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "crypto_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_crypto_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_state")),
    )
    # Everything stored so far was sealed with Fernet and hashed with HMAC-SHA256.
    op.bulk_insert(table, [{"id": 1, "algorithm": "standard", "changed_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("crypto_state")
