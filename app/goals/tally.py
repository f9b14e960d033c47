"""The goals' counters, kept in step with the records they count, in the same transaction.

A goal counts distinct entities (DESIGN.md, Goal counting), and a live COUNT(DISTINCT) over a
million enrollments took 362 ms. So each counted entity is a member row with the number of
records that make it count (refs): a trainee with two completions is one talent with refs 2,
and stops counting only when both are gone. A scope splits a goal ("" for the province,
"city:370100", "university:7"); the totals per goal and scope are kept beside the members, so
reading a counter is reading one row.

Every write of a completion or an enrollment goes through here, given a condition that picks
the rows written: completions_added / enrollments_added after the insert, completions_removed /
enrollments_removed before the delete or the withdrawal. Each is a few set-based statements
(INSERT ... SELECT ... GROUP BY, as upserts), whatever the number of rows: a 100,000-row upload
counted row by row in Python cost 1.8 s. A change of a completion's trainee, company or
university, or of a company's city or USCC (companies/matching.py), must go through here too
(as a removal and an addition).
The totals follow the members in the database itself: a trigger on goal_member adds one for a
member inserted and takes one away for a member deleted (migration 0011), so two transactions
counting the same new trainee at once on PostgreSQL cannot both count it.

The writes count from the owner columns copied onto each completion; recount() counts
everything again through the enrollments and courses instead, so `dandelion goals verify`
(and every test, when it ends) compares two independent counts; rebuild() makes the counters
a recount again. Members are written in key order, so two transactions lock them in the same
order. The province's totals are single rows every enrollment updates: the writes of
different courses wait on each other for the commit only.
"""

from sqlalchemy import String, and_, bindparam, cast, delete, distinct, func, literal_column, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col

from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.universities.models import University

# Goals with members (distinct entities) and plain counts (records).
DISTINCT = ("talents", "companies", "universities", "enrolled")
PLAIN = ("completions", "enrollments")


class GoalMember(SQLModel, table=True):
    """One counted entity of a goal's scope, and how many records make it count."""

    __tablename__ = "goal_member"

    goal: str = Field(max_length=20, primary_key=True)
    scope: str = Field(max_length=40, primary_key=True)
    member: int = Field(primary_key=True)
    refs: int


class GoalTotal(SQLModel, table=True):
    """A goal's count in a scope: its members, or its records for a plain count."""

    __tablename__ = "goal_total"

    goal: str = Field(max_length=20, primary_key=True)
    scope: str = Field(max_length=40, primary_key=True)
    n: int


Key = tuple[str, str]  # (goal, scope)
# Constants written into the SQL rather than bound (PostgreSQL cannot type a parameter it groups
# by), and never grouped by (it refuses a constant in GROUP BY).
PROVINCE = literal_column("''", String)


# SQLite reads "INSERT ... SELECT ... FROM x ON CONFLICT" as a join's ON unless the SELECT has
# a WHERE clause (its documentation's own advice: WHERE true).
_UNAMBIGUOUS: ColumnElement[bool] = literal_column("1 = 1")


def _grouped(query, scope, *columns):
    return query.group_by(*([] if scope is PROVINCE else [scope]), *columns)


def city(code: str | None) -> str:
    return f"city:{code or ''}"


def university(university_id: int) -> str:
    return f"university:{university_id}"


def completions_added(session: Session, where) -> None:
    """After the completions the condition picks were written: they count."""
    _add(session, _completion_sources(where), +1)


def completions_removed(session: Session, where) -> None:
    """Before the completions the condition picks are deleted: they no longer count."""
    _add(session, _completion_sources(where), -1)


def enrollments_added(session: Session, where) -> None:
    """After the enrollments the condition picks were written: the enrolled ones count."""
    _add(session, _enrollment_sources(where), +1)


def enrollments_removed(session: Session, where) -> None:
    """Before the enrollments the condition picks are deleted or withdrawn."""
    _add(session, _enrollment_sources(where), -1)


def _completion_sources(where):
    """(goal, scope, member) and (goal, scope) of the picked completions, by their owner
    columns: the members they make count and the plain counts they add to."""
    rows = (
        sa_select(
            col(Completion.trainee_id).label("trainee"),
            col(Completion.company_id).label("company"),
            col(Completion.university_id).label("uni"),
            col(Company.city_code).label("company_city"),
            col(University.city_code).label("university_city"),
            col(Company.uscc).label("company_uscc"),
        )
        .join(Company, col(Completion.company_id) == Company.id)
        .join(University, col(Completion.university_id) == University.id)
        .where(where)
        .subquery()
    )
    return _completion_members(rows), _completion_plain(rows)


def _enrollment_sources(where):
    rows = (
        sa_select(
            col(Enrollment.trainee_id).label("trainee"),
            col(Course.university_id).label("uni"),
        )
        .join(Course, col(Enrollment.course_id) == Course.id)
        .where(where, col(Enrollment.status) == "enrolled")
        .subquery()
    )
    return _enrollment_members(rows), _enrollment_plain(rows)


def _add(session: Session, sources, sign: int) -> None:
    members, plain = sources
    connection = session.connection()
    table = GoalMember.__table__  # type: ignore[attr-defined]
    for goal, scope, member, source in members:
        query = _grouped(
            sa_select(
                _constant(goal), scope.label("scope"), member.label("member"), func.count()
            ).select_from(source),
            scope,
            member,
        ).order_by(*([] if scope is PROVINCE else [scope]), member)
        if sign > 0:
            stmt = _insert(session, table).from_select(["goal", "scope", "member", "refs"], query)
            connection.execute(
                stmt.on_conflict_do_update(
                    index_elements=["goal", "scope", "member"],
                    set_={"refs": table.c.refs + stmt.excluded.refs},
                )
            )
        else:
            taken = [
                dict(zip(("g", "s", "m", "d"), r, strict=True)) for r in connection.execute(query)
            ]
            _take_away(session, taken)
    totals = GoalTotal.__table__  # type: ignore[attr-defined]
    for goal, scope, source in plain:
        count = func.count() if sign > 0 else -func.count()
        query = _grouped(
            sa_select(_constant(goal), scope.label("scope"), count)
            .select_from(source)
            .where(_UNAMBIGUOUS),
            scope,
        )
        stmt = _insert(session, totals).from_select(["goal", "scope", "n"], query)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=["goal", "scope"], set_={"n": totals.c.n + stmt.excluded.n}
            )
        )


def _take_away(session: Session, rows: list[dict]) -> None:
    """Each member's refs less d; the members left with none deleted (the trigger counts them
    out of their totals)."""
    if not rows:
        return
    table = GoalMember.__table__  # type: ignore[attr-defined]
    key = and_(
        table.c.goal == bindparam("g"),
        table.c.scope == bindparam("s"),
        table.c.member == bindparam("m"),
    )
    connection = session.connection()
    connection.execute(update(table).where(key).values(refs=table.c.refs - bindparam("d")), rows)
    connection.execute(delete(table).where(key, table.c.refs <= 0), rows)


def _insert(session: Session, table):
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _constant(goal: str):
    assert goal.isidentifier()  # written into the SQL: only our own goal names
    return literal_column(f"'{goal}'", String).label("goal")


def _cities(column):
    return literal_column("'city:'", String) + func.coalesce(column, PROVINCE)


def _universities(column):
    return literal_column("'university:'", String) + cast(column, String)


def _completion_members(done):
    # Only a confirmed company (one with a USCC) is empowered (DESIGN.md); its staff's
    # completions count for the other goals whether it is confirmed or not.
    confirmed = sa_select(*done.c).where(done.c.company_uscc.is_not(None)).subquery()
    return [
        ("talents", PROVINCE, done.c.trainee, done),
        ("talents", _cities(done.c.company_city), done.c.trainee, done),
        ("companies", PROVINCE, confirmed.c.company, confirmed),
        ("companies", _cities(confirmed.c.company_city), confirmed.c.company, confirmed),
        ("companies", _universities(confirmed.c.uni), confirmed.c.company, confirmed),
        ("universities", PROVINCE, done.c.uni, done),
        ("universities", _cities(done.c.university_city), done.c.uni, done),
    ]


def _completion_plain(done):
    return [("completions", PROVINCE, done), ("completions", _universities(done.c.uni), done)]


def _enrollment_members(enrolled):
    return [
        ("enrolled", PROVINCE, enrolled.c.trainee, enrolled),
        ("enrolled", _universities(enrolled.c.uni), enrolled.c.trainee, enrolled),
    ]


def _enrollment_plain(enrolled):
    return [
        ("enrollments", PROVINCE, enrolled),
        ("enrollments", _universities(enrolled.c.uni), enrolled),
    ]


def counts(
    session: Session,
    goal: str | None = None,
    *,
    scope: str | None = None,
    scopes_like: str | None = None,
) -> dict[Key, int]:
    """The counters, (goal, scope) -> count; a scope never counted is absent (zero)."""
    query = sa_select(col(GoalTotal.goal), col(GoalTotal.scope), col(GoalTotal.n)).where(
        col(GoalTotal.n) != 0
    )
    if goal is not None:
        query = query.where(col(GoalTotal.goal) == goal)
    if scope is not None:
        query = query.where(col(GoalTotal.scope) == scope)
    if scopes_like is not None:  # "city:": every city's
        query = query.where(col(GoalTotal.scope).startswith(scopes_like))
    return {(g, s): n for g, s, n in session.connection().execute(query)}


def total(session: Session, goal: str, scope: str = "") -> int:
    query = sa_select(col(GoalTotal.n)).where(
        col(GoalTotal.goal) == goal, col(GoalTotal.scope) == scope
    )
    return session.connection().execute(query).scalar() or 0


def _member_sources():
    """The same members and counts, from the records through their enrollments and courses
    (not the owner columns the writes count from): recount's and rebuild's."""
    done = (
        sa_select(
            col(Enrollment.trainee_id).label("trainee"),
            col(Enrollment.company_id).label("company"),
            col(Course.university_id).label("uni"),
            col(Company.city_code).label("company_city"),
            col(University.city_code).label("university_city"),
            col(Company.uscc).label("company_uscc"),
        )
        .select_from(Completion)
        .join(Enrollment, col(Completion.enrollment_id) == Enrollment.id)
        .join(Course, col(Enrollment.course_id) == Course.id)
        .join(Company, col(Enrollment.company_id) == Company.id)
        .join(University, col(Course.university_id) == University.id)
        .subquery()
    )
    enrolled = (
        sa_select(
            col(Enrollment.trainee_id).label("trainee"),
            col(Course.university_id).label("uni"),
        )
        .join(Course, col(Enrollment.course_id) == Course.id)
        .where(col(Enrollment.status) == "enrolled")
        .subquery()
    )
    # Every confirmed company counts as joined: the company table's own triggers keep that one
    # (migrations 0013 and 0016), whatever adds, confirms or removes a company.
    companies = sa_select(col(Company.id)).where(col(Company.uscc).is_not(None)).subquery()
    return (
        _completion_members(done) + _enrollment_members(enrolled),
        [
            *_completion_plain(done),
            *_enrollment_plain(enrolled),
            ("companies_joined", PROVINCE, companies),
        ],
    )


def recount(session: Session) -> dict[Key, int]:
    """Every counter counted again from the records: what counts() must equal."""
    distinct_members, plain = _member_sources()
    found: dict[Key, int] = {}
    connection = session.connection()
    for goal, scope, member, source in distinct_members:
        query = sa_select(scope.label("scope"), func.count(distinct(member))).select_from(source)
        for s, n in connection.execute(_grouped(query, scope)):
            found[(goal, s)] = n
    for goal, scope, source in plain:
        query = sa_select(scope.label("scope"), func.count()).select_from(source)
        for s, n in connection.execute(_grouped(query, scope)):
            found[(goal, s)] = n
    return {key: n for key, n in found.items() if n}


def differences(session: Session) -> list[str]:
    """Where the counters and a recount disagree; empty when they agree."""
    kept, counted = counts(session), recount(session)
    return [
        f"{goal} {scope or 'province'}: counted {kept.get((goal, scope), 0)}, "
        f"recount {counted.get((goal, scope), 0)}"
        for goal, scope in sorted(set(kept) | set(counted))
        if kept.get((goal, scope), 0) != counted.get((goal, scope), 0)
    ]


def rebuild(session: Session) -> None:
    """The counters counted again from the records, in the caller's transaction (after a
    bulk load that bypassed the app, or to repair counters `goals verify` found wrong)."""
    connection = session.connection()
    connection.execute(delete(GoalMember.__table__))  # type: ignore[attr-defined]
    connection.execute(delete(GoalTotal.__table__))  # type: ignore[attr-defined]
    _add(session, _member_sources(), +1)  # the trigger counts the members into the totals
