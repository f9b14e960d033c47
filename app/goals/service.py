"""The plan's three goals, counted as DESIGN.md defines: distinct entities, never rows."""

from dataclasses import dataclass

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from app.cities.models import City
from app.companies.models import Company
from app.completions.models import Completion
from app.config import Settings
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.goals import targets
from app.universities.models import University


@dataclass
class Goal:
    key: str
    count: int
    target: int | None

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.count / self.target) if self.target else 0.0


def count_all(session: Session, settings: Settings) -> dict[str, Goal]:
    def distinct_count(column) -> int:
        return session.exec(select(func.count(distinct(column)))).one()

    plan = targets.current(session, settings)
    enrolled = session.exec(
        select(func.count(distinct(col(Enrollment.trainee_id)))).where(
            col(Enrollment.status) == "enrolled"
        )
    ).one()
    return {
        "universities": Goal(
            "universities",
            distinct_count(col(Completion.university_id)),
            plan.universities,
        ),
        "companies": Goal("companies", distinct_count(col(Completion.company_id)), plan.companies),
        "talents": Goal("talents", distinct_count(col(Completion.trainee_id)), plan.talents),
        "enrolled": Goal("enrolled", enrolled, None),
        "universities_joined": Goal(
            "universities_joined", session.exec(select(func.count(col(University.id)))).one(), None
        ),
        "companies_joined": Goal(
            "companies_joined", session.exec(select(func.count(col(Company.id)))).one(), None
        ),
    }


def recount(session: Session) -> tuple[int, int, int]:
    """The three goals from scratch, through the enrollments rather than the owner columns
    copied onto each completion: `dandelion goals verify` compares the two."""
    universities, companies, talents = session.exec(
        select(
            func.count(distinct(col(Course.university_id))),
            func.count(distinct(col(Enrollment.company_id))),
            func.count(distinct(col(Enrollment.trainee_id))),
        )
        .select_from(Completion)
        .join(Enrollment, col(Completion.enrollment_id) == Enrollment.id)
        .join(Course, col(Enrollment.course_id) == Course.id)
    ).one()
    return universities, companies, talents


def verify(session: Session, settings: Settings) -> list[str]:
    """Differences between the live counters and a recount; empty when they agree."""
    goals = count_all(session, settings)
    live = (goals["universities"].count, goals["companies"].count, goals["talents"].count)
    return [
        f"{name}: counted {a}, recount {b}"
        for name, a, b in zip(
            ("universities", "companies", "talents"), live, recount(session), strict=True
        )
        if a != b
    ]


@dataclass
class CityRow:
    code: str | None
    name: str
    name_en: str
    universities: int
    companies: int
    talents: int


def by_city(session: Session) -> list[CityRow]:
    """The goals per city: a university by its own city, a company and its trained staff by the
    company's city. A trainee who completed while working in two cities counts in both."""
    universities = dict(
        session.exec(
            select(University.city_code, func.count(distinct(col(Completion.university_id))))
            .select_from(Completion)
            .join(University, col(Completion.university_id) == University.id)
            .group_by(University.city_code)
        ).all()
    )
    # Companies and their trained staff in one pass over the same join.
    by_company_city = {
        city: (companies, talents)
        for city, companies, talents in session.exec(
            select(
                Company.city_code,
                func.count(distinct(col(Completion.company_id))),
                func.count(distinct(col(Completion.trainee_id))),
            )
            .select_from(Completion)
            .join(Company, col(Completion.company_id) == Company.id)
            .group_by(Company.city_code)
        ).all()
    }
    companies = {city: pair[0] for city, pair in by_company_city.items()}
    talents = {city: pair[1] for city, pair in by_company_city.items()}
    rows = [
        CityRow(
            c.code,
            c.name,
            c.name_en,
            universities.get(c.code, 0),
            companies.get(c.code, 0),
            talents.get(c.code, 0),
        )
        for c in session.exec(select(City).order_by(City.code))
    ]
    if companies.get(None) or talents.get(None):
        rows.append(
            CityRow(
                None,
                "省外及其他",
                "Outside Shandong or unknown",
                0,
                companies.get(None, 0),
                talents.get(None, 0),
            )
        )
    return rows
