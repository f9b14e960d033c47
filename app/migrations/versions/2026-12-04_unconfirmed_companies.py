"""companies: an employer entered by name alone, unconfirmed until matched to a USCC

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Companies joined counts confirmed companies only (DESIGN.md): the triggers of 0013 counted
# every row; these count the rows with a USCC, and an update that sets or clears one.
SQLITE = [
    """CREATE TRIGGER company_counted AFTER INSERT ON company WHEN NEW.uscc IS NOT NULL BEGIN
        INSERT INTO goal_total (goal, scope, n) VALUES ('companies_joined', '', 1)
        ON CONFLICT (goal, scope) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER company_uncounted AFTER DELETE ON company WHEN OLD.uscc IS NOT NULL BEGIN
        UPDATE goal_total SET n = n - 1 WHERE goal = 'companies_joined' AND scope = '';
    END""",
    """CREATE TRIGGER company_confirmed AFTER UPDATE OF uscc ON company
        WHEN (OLD.uscc IS NULL) <> (NEW.uscc IS NULL) BEGIN
        INSERT INTO goal_total (goal, scope, n)
        VALUES ('companies_joined', '', CASE WHEN NEW.uscc IS NULL THEN -1 ELSE 1 END)
        ON CONFLICT (goal, scope) DO UPDATE SET n = n + excluded.n;
    END""",
]
POSTGRESQL = [
    """CREATE FUNCTION companies_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO goal_total (goal, scope, n)
        SELECT 'companies_joined', '', COUNT(*) FROM added
        WHERE uscc IS NOT NULL HAVING COUNT(*) > 0
        ON CONFLICT (goal, scope) DO UPDATE SET n = goal_total.n + excluded.n;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION companies_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE goal_total SET n = n - (SELECT COUNT(*) FROM removed WHERE uscc IS NOT NULL)
        WHERE goal = 'companies_joined' AND scope = '';
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION companies_confirmed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO goal_total (goal, scope, n)
        SELECT 'companies_joined', '', d FROM (SELECT
            (SELECT COUNT(*) FROM after WHERE uscc IS NOT NULL)
            - (SELECT COUNT(*) FROM before WHERE uscc IS NOT NULL) AS d) AS change
        WHERE d <> 0
        ON CONFLICT (goal, scope) DO UPDATE SET n = goal_total.n + excluded.n;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER company_counted AFTER INSERT ON company
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION companies_counted()""",
    """CREATE TRIGGER company_uncounted AFTER DELETE ON company
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION companies_uncounted()""",
    # A trigger with transition tables cannot name its columns (UPDATE OF uscc): every update.
    """CREATE TRIGGER company_confirmed AFTER UPDATE ON company
        REFERENCING OLD TABLE AS before NEW TABLE AS after
        FOR EACH STATEMENT EXECUTE FUNCTION companies_confirmed()""",
]
# 0013's, to put back on the way down.
OLD_SQLITE = [
    """CREATE TRIGGER company_counted AFTER INSERT ON company BEGIN
        INSERT INTO goal_total (goal, scope, n) VALUES ('companies_joined', '', 1)
        ON CONFLICT (goal, scope) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER company_uncounted AFTER DELETE ON company BEGIN
        UPDATE goal_total SET n = n - 1 WHERE goal = 'companies_joined' AND scope = '';
    END""",
]
OLD_POSTGRESQL = [
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
RECOUNT = (
    "INSERT INTO goal_total (goal, scope, n) "
    "SELECT 'companies_joined', '', COUNT(*) FROM company WHERE uscc IS NOT NULL "
    "ON CONFLICT (goal, scope) DO UPDATE SET n = excluded.n"
)


def upgrade() -> None:
    # SQLite's batch mode copies the table, which drops its triggers: they go first.
    _drop_triggers(["company_counted", "company_uncounted"])
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.alter_column(
            "uscc", existing_type=sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True
        )
        batch_op.add_column(
            sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column("vouched", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_unique_constraint(batch_op.f("uq_company_name_key"), ["name_key"])
    for statement in POSTGRESQL if _pg() else SQLITE:
        op.execute(statement)
    op.execute(RECOUNT)


def downgrade() -> None:
    unconfirmed = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM company WHERE uscc IS NULL"))
    if unconfirmed.scalar():
        raise RuntimeError("Match or remove the unconfirmed companies before this downgrade")
    _drop_triggers(["company_counted", "company_uncounted", "company_confirmed"])
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_company_name_key"), type_="unique")
        batch_op.drop_column("vouched")
        batch_op.drop_column("name_key")
        batch_op.alter_column(
            "uscc", existing_type=sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False
        )
    for statement in OLD_POSTGRESQL if _pg() else OLD_SQLITE:
        op.execute(statement)
    op.execute(RECOUNT)


def _drop_triggers(names: list[str]) -> None:
    for name in names:
        op.execute(f"DROP TRIGGER {name} ON company" if _pg() else f"DROP TRIGGER {name}")
    if _pg():
        functions = {
            "company_counted": "companies_counted",
            "company_uncounted": "companies_uncounted",
            "company_confirmed": "companies_confirmed",
        }
        for name in names:
            op.execute(f"DROP FUNCTION {functions[name]}()")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
