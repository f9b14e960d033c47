"""goal counters: the counted members of each goal and scope, and their totals

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:00:00
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The counters of the records already there, as app/goals/tally.py counts them: copied, not
# imported, so that this migration means the same thing when the app's counting changes.
DONE = """
    SELECT e.trainee_id AS trainee, e.company_id AS company, co.university_id AS uni,
           'city:' || COALESCE(c.city_code, '') AS company_city,
           'city:' || COALESCE(u.city_code, '') AS university_city,
           'university:' || CAST(co.university_id AS VARCHAR) AS university
    FROM completion AS d
    JOIN enrollment AS e ON d.enrollment_id = e.id
    JOIN course AS co ON e.course_id = co.id
    JOIN company AS c ON e.company_id = c.id
    JOIN university AS u ON co.university_id = u.id
"""
ENROLLED = """
    SELECT e.trainee_id AS trainee,
           'university:' || CAST(co.university_id AS VARCHAR) AS university
    FROM enrollment AS e JOIN course AS co ON e.course_id = co.id
    WHERE e.status = 'enrolled'
"""
MEMBERS = [  # goal, scope, member, source
    ("talents", None, "trainee", DONE),
    ("talents", "company_city", "trainee", DONE),
    ("companies", None, "company", DONE),
    ("companies", "company_city", "company", DONE),
    ("companies", "university", "company", DONE),
    ("universities", None, "uni", DONE),
    ("universities", "university_city", "uni", DONE),
    ("enrolled", None, "trainee", ENROLLED),
    ("enrolled", "university", "trainee", ENROLLED),
]
PLAIN = [
    ("completions", None, DONE),
    ("completions", "university", DONE),
    ("enrollments", None, ENROLLED),
    ("enrollments", "university", ENROLLED),
]


# The totals follow the members: one more for a member inserted, one fewer for a member deleted
# (an upsert that finds its member adds to refs and fires no insert trigger, on both databases).
# PostgreSQL counts a statement's rows at once, from its transition tables; SQLite has only row
# triggers.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER goal_member_counted AFTER INSERT ON goal_member BEGIN
        INSERT INTO goal_total (goal, scope, n) VALUES (NEW.goal, NEW.scope, 1)
        ON CONFLICT (goal, scope) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER goal_member_uncounted AFTER DELETE ON goal_member BEGIN
        UPDATE goal_total SET n = n - 1 WHERE goal = OLD.goal AND scope = OLD.scope;
    END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION goal_members_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO goal_total (goal, scope, n)
        SELECT goal, scope, COUNT(*) FROM added GROUP BY goal, scope ORDER BY goal, scope
        ON CONFLICT (goal, scope) DO UPDATE SET n = goal_total.n + excluded.n;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION goal_members_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE goal_total SET n = goal_total.n - r.n
        FROM (SELECT goal, scope, COUNT(*) AS n FROM removed GROUP BY goal, scope) AS r
        WHERE goal_total.goal = r.goal AND goal_total.scope = r.scope;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER goal_member_counted AFTER INSERT ON goal_member
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION goal_members_counted()""",
    """CREATE TRIGGER goal_member_uncounted AFTER DELETE ON goal_member
        REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION goal_members_uncounted()""",
]


def upgrade() -> None:
    op.create_table(
        "goal_member",
        sa.Column("goal", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("member", sa.Integer(), nullable=False),
        sa.Column("refs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("goal", "scope", "member", name=op.f("pk_goal_member")),
    )
    op.create_table(
        "goal_total",
        sa.Column("goal", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("goal", "scope", name=op.f("pk_goal_total")),
    )
    for goal, scope, member, source in MEMBERS:
        scoped = scope or "''"
        grouped = f"{scope}, {member}" if scope else member
        op.execute(
            f"INSERT INTO goal_member (goal, scope, member, refs) "
            f"SELECT '{goal}', {scoped}, {member}, COUNT(*) FROM ({source}) AS s GROUP BY {grouped}"
        )
    op.execute(
        "INSERT INTO goal_total (goal, scope, n) "
        "SELECT goal, scope, COUNT(*) FROM goal_member GROUP BY goal, scope"
    )
    for goal, scope, source in PLAIN:
        if scope:
            op.execute(
                f"INSERT INTO goal_total (goal, scope, n) "
                f"SELECT '{goal}', {scope}, COUNT(*) FROM ({source}) AS s GROUP BY {scope}"
            )
        else:
            op.execute(
                f"INSERT INTO goal_total (goal, scope, n) "
                f"SELECT '{goal}', '', COUNT(*) FROM ({source}) AS s"
            )

    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("goal_total")
    op.drop_table("goal_member")  # and its triggers with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION goal_members_counted()")
        op.execute("DROP FUNCTION goal_members_uncounted()")
