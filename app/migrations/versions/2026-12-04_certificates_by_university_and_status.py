"""certificates by university and status: the universities' progress table counts from it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 00:00:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index("ix_certificate_university_id_status", ["university_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_university_id_status")
