"""Every university's progress, one row each, for the administrators' table.

Enrolled, completions and companies reached are read from the goals' counters
(app/goals/tally.py keeps them per university, in the transaction of each record), so the
table costs the same at a million trainees as at ten. Courses and valid certificates are
counted live: a few hundred courses, and the certificates from their index by university and
status alone (8 ms at 100,000 certificates on SQLite; reading the rows took 160 ms).
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.certificates.models import Certificate
from app.cities.models import City
from app.courses.models import Course
from app.db import id_of
from app.goals import tally
from app.universities.models import University

# The columns, in the order shown; each sorts the table. The figures are named and defined
# in app/goals/definitions.py under FIGURE_KEYS' names.
TEXT_COLUMNS = ("code", "name", "city")
FIGURE_COLUMNS = ("courses", "enrolled", "completions", "certified", "companies")
COLUMNS = TEXT_COLUMNS + FIGURE_COLUMNS
FIGURE_KEYS = {
    "courses": "courses",
    "enrolled": "enrolled",
    "completions": "completions",
    "certified": "certified",
    "companies": "companies_reached",
}
# Counter goal of each figure the counters keep, in scope "university:<id>".
COUNTED = {"enrolled": "enrolled", "completions": "completions", "companies": "companies"}


@dataclass(frozen=True)
class Row:
    university: University
    city: City | None
    courses: int
    enrolled: int
    completions: int
    certified: int
    companies: int


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool

    def next_for(self, column: str) -> "Order":
        """The order a column's heading links to: the other way round when it is the one
        sorted, else its natural order (names A to Z, figures largest first)."""
        if column == self.column:
            return Order(column, not self.descending)
        return Order(column, column in FIGURE_COLUMNS)


DEFAULT = Order("code", False)


def order(sort: str | None, direction: str | None) -> Order:
    """The order asked for in ?sort=&dir=; anything else is the default (a hand-edited link
    should show the table, not an error page)."""
    if sort not in COLUMNS:
        return DEFAULT
    if direction not in ("asc", "desc"):
        return Order(sort, sort in FIGURE_COLUMNS)
    return Order(sort, direction == "desc")


def rows(session: Session) -> list[Row]:
    counted = tally.counts(session, scopes_like="university:")
    courses = _per_university(session, select(Course.university_id, func.count()), Course)
    certified = _per_university(
        session,
        select(Certificate.university_id, func.count()).where(col(Certificate.status) == "issued"),
        Certificate,
    )
    cities = {c.code: c for c in session.exec(select(City))}
    found = []
    for university in session.exec(select(University)):
        university_id = id_of(university)
        scope = tally.university(university_id)
        figures = {name: counted.get((goal, scope), 0) for name, goal in COUNTED.items()}
        found.append(
            Row(
                university=university,
                city=cities.get(university.city_code),
                courses=courses.get(university_id, 0),
                certified=certified.get(university_id, 0),
                **figures,
            )
        )
    return found


def _per_university(session: Session, query, model) -> dict[int, int]:
    grouped = query.group_by(col(model.university_id))
    return {university_id: n for university_id, n in session.exec(grouped)}


def sort(found: list[Row], by: Order) -> list[Row]:
    """Sorted by the column, ties by code (always A to Z, so equal rows keep one order). A city
    sorts by its code, Shandong's official order of its cities, the same in both languages."""

    def key(row: Row):
        if by.column == "code":
            return row.university.code
        if by.column == "name":
            return row.university.name
        if by.column == "city":
            return row.university.city_code
        return getattr(row, by.column)

    by_code = sorted(found, key=lambda r: r.university.code)
    return sorted(by_code, key=key, reverse=by.descending)
