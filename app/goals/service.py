"""The plan's three goals, counted as DESIGN.md defines: distinct entities, never rows."""

from dataclasses import dataclass

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from app.cities.models import City
from app.config import Settings
from app.courses.models import Course
from app.goals import tally, targets


@dataclass
class Goal:
    key: str
    count: int
    target: int | None

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.count / self.target) if self.target else 0.0


def count_all(session: Session, settings: Settings, plan=None) -> dict[str, Goal]:
    """Every figure of the goals, read from the counters app/goals/tally.py keeps (a few rows,
    whatever the size: a live COUNT(DISTINCT) over a million enrollments took 362 ms). The
    plan (targets.current) when the caller has read it already."""
    plan = plan or targets.current(session, settings)
    counted = tally.counts(session, scope="")  # the province's: a handful of rows

    def province(goal: str) -> int:
        return counted.get((goal, ""), 0)

    with_course = select(func.count(distinct(col(Course.university_id))))
    return {
        "universities": Goal("universities", province("universities"), plan.universities),
        "companies": Goal("companies", province("companies"), plan.companies),
        "talents": Goal("talents", province("talents"), plan.talents),
        "enrolled": Goal("enrolled", province("enrolled"), None),
        # The courses: a small table, counted live.
        "universities_joined": Goal("universities_joined", session.exec(with_course).one(), None),
        "companies_joined": Goal("companies_joined", province("companies_joined"), None),
    }


def verify(session: Session, settings: Settings) -> list[str]:
    """Where the counters and a recount from the records disagree; empty when they agree."""
    return tally.differences(session)


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
    counted = tally.counts(session, scopes_like="city:")

    def per_city(goal: str) -> dict[str | None, int]:
        return {
            scope.removeprefix("city:") or None: n for (g, scope), n in counted.items() if g == goal
        }

    return city_rows(session, *map(per_city, ("universities", "companies", "talents")))


def city_rows(
    session: Session,
    universities: dict[str | None, int],
    companies: dict[str | None, int],
    talents: dict[str | None, int],
) -> list[CityRow]:
    """The 16 cities' rows from counts by city code, and one for companies outside Shandong
    (city None) when there are any."""
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
