"""company cluster: only the industry clusters of companies.models.CLUSTERS

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Copied, not imported: this migration must mean the same thing when the list changes later.
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
IN_CLUSTERS = "cluster IN (" + ", ".join(f"'{c}'" for c in CLUSTERS) + ")"


def upgrade() -> None:
    # Nothing but the demo ever wrote a cluster, always one of these; any other value was typed
    # into the database by hand, means nothing to the pages and is cleared for an administrator
    # to set again, rather than make the upgrade fail.
    op.execute(sa.text(f"UPDATE company SET cluster = NULL WHERE NOT ({IN_CLUSTERS})"))
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_company_cluster"), sa.text(IN_CLUSTERS))


def downgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_company_cluster"), type_="check")
