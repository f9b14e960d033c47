"""The goals' counters, kept in step with the records they count, in the same transaction.

A goal counts distinct entities (DESIGN.md, Goal counting), and a live COUNT(DISTINCT) over a
million enrollments took 362 ms. So each counted entity is a member row with the number of
records that make it count (refs): a trainee with two completions is one talent with refs 2,
and stops counting only when both are gone. A scope splits a goal ("" for the province,
"city:370100", "university:7"); the totals per goal and scope are kept beside the members, so
reading a counter is reading one row.

Every write of a completion or an enrollment goes through here: completions_added/removed,
enrollments_added/removed, given the rows that changed. A change of a completion's trainee,
company or university, or of a company's city, must too (as a removal and an addition).
recount() counts everything again from the records themselves, through the enrollments and
courses rather than the owner columns copied onto each completion; `dandelion goals verify`
and the tests compare the two, and rebuild() makes the counters a recount again.

Concurrency: an increment is one upsert per member (atomic on PostgreSQL), members and totals
are touched in key order, so two transactions lock them in the same order and cannot
deadlock; a decrement locks its members first. The province's totals are single rows every
enrollment updates: the writes of different courses wait on each other for the commit only.
"""

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import String, and_, bindparam, cast, delete, distinct, func, literal_column, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from app import db
from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.universities.models import University

# Goals with members (distinct entities) and plain counts (records).
DISTINCT = ("talents", "companies", "universities", "enrolled")
PLAIN = ("completions", "enrollments")
CHUNK = 1000  # rows a statement: 4,000 parameters, under both databases' limits


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


def _grouped(query, scope, *columns):
    return query.group_by(*([] if scope is PROVINCE else [scope]), *columns)


def city(code: str | None) -> str:
    return f"city:{code or ''}"


def university(university_id: int) -> str:
    return f"university:{university_id}"


def completions_added(session: Session, rows: Iterable[tuple[int, int, int]]) -> None:
    """rows: (trainee_id, company_id, university_id) of each completion written."""
    _completions(session, list(rows), +1)


def completions_removed(session: Session, rows: Iterable[tuple[int, int, int]]) -> None:
    """rows: (trainee_id, company_id, university_id) of each completion deleted."""
    _completions(session, list(rows), -1)


def enrollments_added(session: Session, rows: Iterable[tuple[int, int]]) -> None:
    """rows: (trainee_id, university_id) of each enrollment that is now "enrolled"."""
    _enrollments(session, list(rows), +1)


def enrollments_removed(session: Session, rows: Iterable[tuple[int, int]]) -> None:
    """rows: (trainee_id, university_id) of each enrollment no longer "enrolled"."""
    _enrollments(session, list(rows), -1)


def forget_completions(session: Session, completion_ids: list[int]) -> None:
    """Before these completions are deleted: they no longer count."""
    rows: list = []
    for start in range(0, len(completion_ids), CHUNK * 10):
        query = sa_select(
            col(Completion.trainee_id), col(Completion.company_id), col(Completion.university_id)
        ).where(db.among(session, col(Completion.id), completion_ids[start : start + CHUNK * 10]))
        rows += session.connection().execute(query).all()
    completions_removed(session, rows)


def forget_enrollments(session: Session, enrollment_ids: list[int]) -> None:
    """Before these enrollments are deleted or withdrawn: the ones enrolled no longer count."""
    rows: list = []
    for start in range(0, len(enrollment_ids), CHUNK * 10):
        query = (
            sa_select(col(Enrollment.trainee_id), col(Course.university_id))
            .join(Course, col(Enrollment.course_id) == Course.id)
            .where(
                db.among(session, col(Enrollment.id), enrollment_ids[start : start + CHUNK * 10]),
                col(Enrollment.status) == "enrolled",
            )
        )
        rows += session.connection().execute(query).all()
    enrollments_removed(session, rows)


def _completions(session: Session, rows: list[tuple[int, int, int]], sign: int) -> None:
    if not rows:
        return
    company_city = _cities(session, Company, {c for _, c, _ in rows})
    university_city = _cities(session, University, {u for _, _, u in rows})
    members: Counter = Counter()
    plain: Counter = Counter()
    for trainee, company, uni in rows:
        members.update(
            (
                ("talents", "", trainee),
                ("talents", city(company_city[company]), trainee),
                ("companies", "", company),
                ("companies", city(company_city[company]), company),
                ("companies", university(uni), company),
                ("universities", "", uni),
                ("universities", city(university_city[uni]), uni),
            )
        )
        plain.update((("completions", ""), ("completions", university(uni))))
    _apply(session, members, plain, sign)


def _enrollments(session: Session, rows: list[tuple[int, int]], sign: int) -> None:
    if not rows:
        return
    members: Counter = Counter()
    plain: Counter = Counter()
    for trainee, uni in rows:
        members.update((("enrolled", "", trainee), ("enrolled", university(uni), trainee)))
        plain.update((("enrollments", ""), ("enrollments", university(uni))))
    _apply(session, members, plain, sign)


def _cities(session: Session, model, ids: set[int]) -> dict[int, str | None]:
    query = sa_select(col(model.id), col(model.city_code)).where(
        db.among(session, col(model.id), sorted(ids))
    )
    return dict(session.connection().execute(query).all())


def _apply(session: Session, members: Counter, plain: Counter, sign: int) -> None:
    totals: Counter = Counter({key: sign * n for key, n in plain.items()})
    keys = sorted(members)
    for start in range(0, len(keys), CHUNK):
        chunk = {k: members[k] for k in keys[start : start + CHUNK]}
        counted = _increment(session, chunk) if sign > 0 else _decrement(session, chunk)
        totals.update({key: sign * n for key, n in counted.items()})
    _add_totals(session, totals)


def _insert(session: Session, table):
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _increment(session: Session, chunk: dict[tuple, int]) -> Counter:
    """Add each member's refs; the (goal, scope) of the members that are new."""
    table = GoalMember.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["goal", "scope", "member"], set_={"refs": table.c.refs + stmt.excluded.refs}
    ).returning(table.c.goal, table.c.scope, table.c.member, table.c.refs)
    rows = [{"goal": g, "scope": s, "member": m, "refs": n} for (g, s, m), n in chunk.items()]
    new: Counter = Counter()
    for goal, scope, member, refs in session.connection().execute(stmt, rows):
        if refs == chunk[(goal, scope, member)]:  # nothing before: a new member
            new[(goal, scope)] += 1
    return new


def _decrement(session: Session, chunk: dict[tuple, int]) -> Counter:
    """Take each member's refs away; the (goal, scope) of the members that no longer count."""
    table = GoalMember.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    by_scope: dict[Key, list[int]] = {}
    for goal, scope, member in chunk:
        by_scope.setdefault((goal, scope), []).append(member)
    held: dict[tuple, int] = {}
    for (goal, scope), ids in sorted(by_scope.items()):
        for member, refs in connection.execute(
            sa_select(table.c.member, table.c.refs)
            .where(table.c.goal == goal, table.c.scope == scope)
            .where(db.among(session, table.c.member, ids))
            .order_by(table.c.member)
            .with_for_update()
        ):
            held[(goal, scope, member)] = refs
    gone: Counter = Counter()
    emptied: list[dict] = []
    lowered: list[dict] = []
    for (goal, scope, member), n in chunk.items():
        refs = held.get((goal, scope, member), 0)
        row = {"g": goal, "s": scope, "m": member, "refs": refs - n}
        if refs > n:
            lowered.append(row)
        elif refs:
            emptied.append(row)
            gone[(goal, scope)] += 1
    where = and_(
        table.c.goal == bindparam("g"),
        table.c.scope == bindparam("s"),
        table.c.member == bindparam("m"),
    )
    if emptied:
        connection.execute(delete(table).where(where), emptied)
    if lowered:
        connection.execute(update(table).where(where).values(refs=bindparam("refs")), lowered)
    return gone


def _add_totals(session: Session, totals: Counter) -> None:
    rows = [{"goal": g, "scope": s, "n": n} for (g, s), n in sorted(totals.items()) if n]
    if not rows:
        return
    table = GoalTotal.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["goal", "scope"], set_={"n": table.c.n + stmt.excluded.n}
    )
    session.connection().execute(stmt, rows)


def counts(session: Session, goal: str | None = None) -> dict[Key, int]:
    """The counters, (goal, scope) -> count; a scope never counted is absent (zero)."""
    query = sa_select(col(GoalTotal.goal), col(GoalTotal.scope), col(GoalTotal.n)).where(
        col(GoalTotal.n) != 0
    )
    if goal is not None:
        query = query.where(col(GoalTotal.goal) == goal)
    return {(g, s): n for g, s, n in session.connection().execute(query)}


def total(session: Session, goal: str, scope: str = "") -> int:
    query = sa_select(col(GoalTotal.n)).where(
        col(GoalTotal.goal) == goal, col(GoalTotal.scope) == scope
    )
    return session.connection().execute(query).scalar() or 0


def _member_sources():
    """(goal, scope, member) of every record that makes a member count, from the records."""
    done = (
        sa_select(
            col(Enrollment.trainee_id).label("trainee"),
            col(Enrollment.company_id).label("company"),
            col(Course.university_id).label("uni"),
            col(Company.city_code).label("company_city"),
            col(University.city_code).label("university_city"),
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

    def cities(column):
        return literal_column("'city:'", String) + func.coalesce(column, PROVINCE)

    def universities(column):
        return literal_column("'university:'", String) + cast(column, String)

    return [
        ("talents", PROVINCE, done.c.trainee, done),
        ("talents", cities(done.c.company_city), done.c.trainee, done),
        ("companies", PROVINCE, done.c.company, done),
        ("companies", cities(done.c.company_city), done.c.company, done),
        ("companies", universities(done.c.uni), done.c.company, done),
        ("universities", PROVINCE, done.c.uni, done),
        ("universities", cities(done.c.university_city), done.c.uni, done),
        ("enrolled", PROVINCE, enrolled.c.trainee, enrolled),
        ("enrolled", universities(enrolled.c.uni), enrolled.c.trainee, enrolled),
    ], [
        ("completions", PROVINCE, done),
        ("completions", universities(done.c.uni), done),
        ("enrollments", PROVINCE, enrolled),
        ("enrollments", universities(enrolled.c.uni), enrolled),
    ]


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
    distinct_members, plain = _member_sources()
    members = GoalMember.__table__  # type: ignore[attr-defined]
    for goal, scope, member, source in distinct_members:
        query = sa_select(
            literal_column(f"'{goal}'", String).label("goal"),
            scope.label("scope"),
            member.label("member"),
            func.count().label("refs"),
        ).select_from(source)
        connection.execute(
            members.insert().from_select(
                ["goal", "scope", "member", "refs"], _grouped(query, scope, member)
            )
        )
    totals = GoalTotal.__table__  # type: ignore[attr-defined]
    by_scope = sa_select(
        col(GoalMember.goal), col(GoalMember.scope), func.count().label("n")
    ).group_by(col(GoalMember.goal), col(GoalMember.scope))
    connection.execute(totals.insert().from_select(["goal", "scope", "n"], by_scope))
    for goal, scope, source in plain:
        query = sa_select(
            literal_column(f"'{goal}'", String).label("goal"),
            scope.label("scope"),
            func.count().label("n"),
        ).select_from(source)
        connection.execute(
            totals.insert().from_select(["goal", "scope", "n"], _grouped(query, scope))
        )
