"""upload previews: a batch is previewed, then saved (or undone); grades beside scores

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:30:00
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("completion_batch", schema=None) as batch_op:
        # Every batch before this was saved as it arrived.
        batch_op.add_column(
            sa.Column(
                "state",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="saved",
            )
        )
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="completions",
            )
        )
        batch_op.add_column(
            sa.Column("conflicts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("failed", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("plan", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_completion_batch_job_id", "job", ["job_id"], ["id"])
        batch_op.add_column(
            sa.Column("saved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("saved_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("undone_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_completion_batch_saved_by", "user", ["saved_by"], ["id"])
        batch_op.create_foreign_key("fk_completion_batch_undone_by", "user", ["undone_by"], ["id"])
        batch_op.create_index("ix_completion_batch_state", ["state"])
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_column("grade")
    with op.batch_alter_table("completion_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_batch_state")
        batch_op.drop_constraint("fk_completion_batch_undone_by", type_="foreignkey")
        batch_op.drop_constraint("fk_completion_batch_job_id", type_="foreignkey")
        batch_op.drop_constraint("fk_completion_batch_saved_by", type_="foreignkey")
        for column in (
            "undone_by",
            "undone_at",
            "saved_by",
            "saved_at",
            "job_id",
            "plan",
            "failed",
            "conflicts",
            "kind",
            "state",
        ):
            batch_op.drop_column(column)
