"""companies joined: a counter the company table's triggers keep

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 03:00:00
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Every company row counts (a trainee named it when enrolling, or a roster did); the home page
# read COUNT(*) over the table, the one counter that grew with the data (2.3 ms at 20,000 on
# PostgreSQL). The table's own triggers keep it, so no path that adds or removes a company can
# forget it.
SQLITE = [
    """CREATE TRIGGER company_counted AFTER INSERT ON company BEGIN
        INSERT INTO goal_total (goal, scope, n) VALUES ('companies_joined', '', 1)
        ON CONFLICT (goal, scope) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER company_uncounted AFTER DELETE ON company BEGIN
        UPDATE goal_total SET n = n - 1 WHERE goal = 'companies_joined' AND scope = '';
    END""",
]
POSTGRESQL = [
    """CREATE FUNCTION companies_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO goal_total (goal, scope, n)
        SELECT 'companies_joined', '', COUNT(*) FROM added HAVING COUNT(*) > 0
        ON CONFLICT (goal, scope) DO UPDATE SET n = goal_total.n + excluded.n;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION companies_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE goal_total SET n = n - (SELECT COUNT(*) FROM removed)
        WHERE goal = 'companies_joined' AND scope = '';
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER company_counted AFTER INSERT ON company
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION companies_counted()""",
    """CREATE TRIGGER company_uncounted AFTER DELETE ON company
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION companies_uncounted()""",
]


def upgrade() -> None:
    op.execute(
        "INSERT INTO goal_total (goal, scope, n) "
        "SELECT 'companies_joined', '', COUNT(*) FROM company WHERE 1 = 1 "
        "ON CONFLICT (goal, scope) DO UPDATE SET n = excluded.n"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER company_counted ON company" if _pg() else "DROP TRIGGER company_counted"
    )
    op.execute(
        "DROP TRIGGER company_uncounted ON company" if _pg() else "DROP TRIGGER company_uncounted"
    )
    if _pg():
        op.execute("DROP FUNCTION companies_counted()")
        op.execute("DROP FUNCTION companies_uncounted()")
    op.execute("DELETE FROM goal_total WHERE goal = 'companies_joined'")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
