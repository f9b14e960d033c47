"""auth: TOTP second factor, recovery codes, lock-outs, sessions with idle and absolute limits

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("university", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "staff_totp_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # Sessions that exist already were last seen when they began, as far as anyone knows.
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute("UPDATE user_session SET last_seen_at = created_at")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        )
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("address", sa.String(length=45), nullable=False, server_default="")
        )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_recovery_code_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"])
    op.create_table(
        "login_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_lock")),
        sa.UniqueConstraint(
            "account_hash", "source_hash", name=op.f("uq_login_lock_account_hash_source_hash")
        ),
    )
    op.create_index(op.f("ix_login_lock_account_hash"), "login_lock", ["account_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_lock_account_hash"), table_name="login_lock")
    op.drop_table("login_lock")
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("university", schema=None) as batch_op:
        batch_op.drop_column("staff_totp_required")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
