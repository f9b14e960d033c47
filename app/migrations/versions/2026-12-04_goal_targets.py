"""goal targets and the campaign period, edited by an administrator

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:00:00
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row until an administrator saves the plan: until then the settings' targets apply
    # (DANDELION_GOAL_*), so an installation's targets stay what they were.
    op.create_table(
        "goal_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("universities", sa.Integer(), nullable=False),
        sa.Column("companies", sa.Integer(), nullable=False),
        sa.Column("talents", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_goal_plan_one_row")),
        sa.CheckConstraint(
            "universities > 0 AND companies > 0 AND talents > 0",
            name=op.f("ck_goal_plan_positive_targets"),
        ),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_goal_plan_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_plan")),
    )


def downgrade() -> None:
    op.drop_table("goal_plan")
