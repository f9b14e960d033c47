"""accounts in the browser: password change at next login, deactivation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # Tokens made before this came from the command line: they belong to no user.
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_api_token_created_by_id_user"), "user", ["created_by_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_api_token_created_by_id"), ["created_by_id"])
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_actor_at", ["actor", "at"])
        batch_op.create_index("ix_audit_event_action_at", ["action", "at"])


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_action_at")
        batch_op.drop_index("ix_audit_event_actor_at")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_api_token_created_by_id"))
        batch_op.drop_constraint(op.f("fk_api_token_created_by_id_user"), type_="foreignkey")
        batch_op.drop_column("created_by_id")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
