"""me: trainees' one-time codes, share copies of certificates, deletion requests

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _when() -> sqlmodel.sql.sqltypes.UTCDateTime:
    return sqlmodel.sql.sqltypes.UTCDateTime()


def _trainee_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["trainee_id"], ["trainee.id"], name=op.f(f"fk_{table}_trainee_id_trainee")
    )


def upgrade() -> None:
    op.create_table(
        "trainee_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", _text(64), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("mobile_hash", _text(64), nullable=False),
        sa.Column("code_hash", _text(64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        _trainee_fk("trainee_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainee_code")),
    )
    op.create_table(
        "trainee_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("mobile_hash", _text(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        _trainee_fk("trainee_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainee_session")),
    )
    op.create_table(
        "certificate_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _text(60), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_certificate_share_certificate_id_certificate"),
        ),
        _trainee_fk("certificate_share"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_share")),
    )
    op.create_table(
        "deletion_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("state", _text(10), nullable=False),
        sa.Column("requested_at", _when(), nullable=False),
        sa.Column("decided_at", _when(), nullable=True),
        sa.Column("decided_by", _text(40), nullable=True),
        sa.Column("reason", _text(200), nullable=True),
        _trainee_fk("deletion_request"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_request")),
    )
    for table, column, unique in (
        ("trainee_code", "challenge_hash", True),
        ("trainee_code", "trainee_id", False),
        ("trainee_session", "token_hash", True),
        ("trainee_session", "trainee_id", False),
        ("certificate_share", "token_hash", True),
        ("certificate_share", "certificate_id", False),
        ("certificate_share", "trainee_id", False),
        ("deletion_request", "trainee_id", False),
    ):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=unique)


def downgrade() -> None:
    for table in ("deletion_request", "certificate_share", "trainee_session", "trainee_code"):
        op.drop_table(table)  # and its indexes with it
