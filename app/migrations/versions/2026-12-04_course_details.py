"""courses: what a trainee decides by (description, mode, venue, schedule, contact, audience), closed by hand

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Copied, not imported: this migration must mean the same thing when the lists change later.
MODES = ("on_site", "online", "mixed")
CLUSTERS = (
    "children_clothing",
    "home_textiles",
    "knitwear",
    "sweaters",
    "cotton_textiles",
    "rope_and_net",
    "printing_and_dyeing",
    "high_end_fibres",
    "industrial_textiles",
    "other",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("mode", sa.String(length=10), server_default="on_site", nullable=False)
        )
        batch_op.add_column(sa.Column("venue", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("city_code", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("schedule", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact_name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("audience", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("cluster", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column("is_draft", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_course_city_code"), ["city_code"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_course_city_code_city"), "city", ["city_code"], ["code"]
        )
        batch_op.create_check_constraint(op.f("ck_course_mode"), sa.text(_in("mode", MODES)))
        batch_op.create_check_constraint(
            op.f("ck_course_cluster"), sa.text(_in("cluster", CLUSTERS))
        )
    # A course so far was taught where its university is: the catalog's city filter finds it.
    op.execute(
        "UPDATE course SET city_code = "
        "(SELECT university.city_code FROM university WHERE university.id = course.university_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_course_cluster"), type_="check")
        batch_op.drop_constraint(op.f("ck_course_mode"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_course_city_code_city"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_course_city_code"))
        for column in (
            "is_draft",
            "cluster",
            "audience",
            "contact_email",
            "contact_phone",
            "contact_name",
            "schedule",
            "city_code",
            "venue",
            "mode",
            "description",
        ):
            batch_op.drop_column(column)
