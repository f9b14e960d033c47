"""The goals broken down for the dashboard: by month of first completion, by university, by
company and by industry cluster, for the alliance or one university's part of it.

Counted as the goals are (distinct entities over the completions). A trainee who completed
for two employers counts for both companies, both cities and both clusters; a university's
part counts what was completed in its own courses.
"""

from datetime import date

from sqlalchemy import Select, case, distinct, func
from sqlmodel import Session, col, select

from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.goals import tally
from app.goals.service import CityRow, city_rows
from app.universities.models import University

KEYS = {
    "universities": Completion.university_id,
    "companies": Completion.company_id,
    "talents": Completion.trainee_id,
}


# Companies empowered: confirmed ones only (DESIGN.md), as the counters count them.
EMPOWERED = func.count(distinct(case((col(Company.uscc).is_not(None), col(Completion.company_id)))))


def _scoped(query, university_id: int | None):
    return (
        query
        if university_id is None
        else query.where(col(Completion.university_id) == university_id)
    )


def firsts(session: Session, goal: str, university_id: int | None = None) -> dict[date, int]:
    """How many of the goal's entities completed for the first time on each day."""
    key = col(KEYS[goal])
    query: Select = select(key.label("key"), func.min(Completion.completed_on).label("first"))
    if goal == "companies":  # confirmed ones only
        query = query.join(Company, key == Company.id).where(col(Company.uscc).is_not(None))
    first = _scoped(query.group_by(key), university_id).subquery()
    rows = session.exec(select(first.c.first, func.count()).group_by(first.c.first)).all()
    return {day: n for day, n in rows}


def by_university(session: Session, limit: int = 30) -> list[tuple[str, int]]:
    """Digital talents cultivated at each university with any, most first."""
    talents = func.count(distinct(col(Completion.trainee_id)))
    rows = session.exec(
        select(University.name, talents)
        .join(University, col(Completion.university_id) == University.id)
        .group_by(col(University.id), col(University.name))
        .order_by(talents.desc(), col(University.name))
        .limit(limit)
    ).all()
    return [(name, n) for name, n in rows]


def top_companies(
    session: Session, university_id: int | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    """The companies with the most digital talents cultivated."""
    talents = func.count(distinct(col(Completion.trainee_id)))
    query = (
        select(Company.name, talents)
        .join(Company, col(Completion.company_id) == Company.id)
        .group_by(col(Company.id), col(Company.name))
        .order_by(talents.desc(), col(Company.name))
        .limit(limit)
    )
    return [(name, n) for name, n in session.exec(_scoped(query, university_id)).all()]


def by_cluster(
    session: Session, university_id: int | None = None
) -> dict[str | None, tuple[int, int]]:
    """Industry cluster (None: not filed yet) -> (companies empowered, talents cultivated)."""
    query = (
        select(
            Company.cluster,
            EMPOWERED,
            func.count(distinct(col(Completion.trainee_id))),
        )
        .join(Company, col(Completion.company_id) == Company.id)
        .group_by(col(Company.cluster))
    )
    return {
        c: (companies, talents)
        for c, companies, talents in session.exec(_scoped(query, university_id))
    }


def by_city(
    session: Session,
    university_id: int | None = None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[CityRow]:
    """The goals per city, counted live from the completions (dated within the range, when
    given): a university by its own city, a company and its trained staff by the company's;
    one university's part, when university_id is given. The alliance's figures of
    today come from the counters instead (service.by_city); the dashboard of a university,
    the monthly report (up to a month's end) and the exports (a range) count here."""

    def picked(query):
        if date_from is not None:
            query = query.where(col(Completion.completed_on) >= date_from)
        if date_to is not None:
            query = query.where(col(Completion.completed_on) <= date_to)
        return _scoped(query, university_id)

    counted = {
        city: (companies, talents)
        for city, companies, talents in session.exec(
            picked(
                select(
                    Company.city_code,
                    EMPOWERED,
                    func.count(distinct(col(Completion.trainee_id))),
                )
                .join(Company, col(Completion.company_id) == Company.id)
                .group_by(col(Company.city_code))
            )
        )
    }
    universities = dict(
        session.exec(
            picked(
                select(University.city_code, func.count(distinct(col(Completion.university_id))))
                .join(University, col(Completion.university_id) == University.id)
                .group_by(col(University.city_code))
            )
        ).all()
    )
    companies = {city: pair[0] for city, pair in counted.items()}
    talents = {city: pair[1] for city, pair in counted.items()}
    return city_rows(session, universities, companies, talents)


def university_figures(session: Session, university_id: int) -> dict[str, int]:
    """One university's part of the figures: its courses, the trainees enrolled in them, and
    the companies empowered and talents cultivated by its completions. Companies and trainees
    enrolled from the counters' university scope, as the progress table reads them; talents
    per university have no counter and are counted live."""
    scope = tally.university(university_id)
    counted = tally.counts(session, scope=scope)
    talents = session.exec(
        select(func.count(distinct(col(Completion.trainee_id)))).where(
            col(Completion.university_id) == university_id
        )
    ).one()
    companies = counted.get(("companies", scope), 0)
    enrolled = counted.get(("enrolled", scope), 0)
    courses = session.exec(
        select(func.count(col(Course.id))).where(col(Course.university_id) == university_id)
    ).one()
    return {"companies": companies, "talents": talents, "enrolled": enrolled, "courses": courses}
