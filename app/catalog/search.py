"""The catalog's query: courses taking enrollments, narrowed by the filters, one page of them.

The text search is a substring match over a course's title, English title and description,
which is what Chinese needs (no word splitting). An index finds the candidates once the query
has three characters or more (a trigram); shorter queries scan, with the same meaning.
- SQLite: the FTS5 table course_search (trigram tokenizer), which triggers on course keep
  (migration 0015). A phrase query of the trigram tokenizer is a case-insensitive substring
  match.
- PostgreSQL: ILIKE, which a GIN index (pg_trgm, gin_trgm_ops) serves for three characters or
  more. pg_trgm extracts trigrams from Chinese in this installation (lc_ctype C.UTF-8:
  show_trgm('数字化培训') gives six trigrams, and EXPLAIN shows a bitmap scan of the index);
  under a locale whose classification did not count CJK as letters the index would yield no
  trigram and PostgreSQL would check every row: slower, never wrong, as ILIKE decides.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from app.catalog.filters import CatalogFilter
from app.cities.models import City
from app.courses import service as courses
from app.courses.models import Course
from app.universities.models import University

TRIGRAM = 3
SEARCH_TABLE = "course_search"  # SQLite's FTS5 table (migration 0015)
# A literal, not a bound parameter: PostgreSQL matches the query to the index's expression.
NOTHING: sa.ColumnElement[str] = sa.literal_column("''")


@dataclass(frozen=True)
class Page:
    """One page of results: (course, university, city) rows, as the cards show them."""

    rows: list[tuple[Course, University, City]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def past_the_end(self) -> bool:
        return self.page > self.pages


def find(session: Session, asked: CatalogFilter, today: date) -> Page:
    city_code = func.coalesce(Course.city_code, University.city_code)  # the university's city
    found = (
        select(Course, University, City)
        .join(University, col(Course.university_id) == University.id)
        .join(City, city_code == City.code)
        .where(*courses.enrolling(today), *_narrowed(session, asked, city_code))
    )
    total = session.exec(select(func.count()).select_from(found.subquery())).one()
    rows = session.exec(
        found.order_by(col(Course.starts_on), col(Course.code))
        .limit(asked.per_page)
        .offset(asked.offset)
    ).all()
    return Page(rows=list(rows), total=total, page=asked.page, per_page=asked.per_page)


def _narrowed(session: Session, asked: CatalogFilter, city_code) -> list:
    where = []
    if asked.city:
        where.append(city_code == asked.city)
    if asked.university:
        where.append(University.code == asked.university)
    if asked.mode:
        where.append(Course.mode == asked.mode)
    if asked.cluster:
        where.append(Course.cluster == asked.cluster)
    if asked.starts_from:
        where.append(col(Course.starts_on) >= asked.starts_from)
    if asked.starts_to:
        where.append(col(Course.starts_on) <= asked.starts_to)
    if asked.seats:
        where.append(col(Course.seats_taken) < col(Course.capacity))
    if asked.q:
        where.append(_matching(session.get_bind().dialect.name, asked.q))
    return where


def _matching(dialect: str, text: str):
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        # A phrase between double quotes is taken literally by FTS5 (a quote is doubled):
        # AND, NEAR, *, ^ and : in the query are text, not query syntax.
        phrase = '"' + text.replace('"', '""') + '"'
        indexed = sa.table(SEARCH_TABLE, sa.column("rowid"))
        return col(Course.id).in_(
            select(indexed.c.rowid).where(sa.literal_column(SEARCH_TABLE).op("MATCH")(phrase))
        )
    pattern = "%" + like_escaped(text) + "%"
    # The same three expressions as the PostgreSQL index (migration 0015), or it is not used.
    return or_(
        *(
            expression.ilike(pattern, escape="\\")
            for expression in (
                col(Course.title),
                func.coalesce(Course.title_en, NOTHING),
                func.coalesce(Course.description, NOTHING),
            )
        )
    )


def like_escaped(text: str) -> str:
    """% and _ in a query are the characters themselves, not LIKE's wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
