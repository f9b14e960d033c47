"""Matching an unconfirmed company (a name a trainee typed) to the real one: an administrator
for any, a university's staff for those their trainees named. Either the real company is chosen
(every enrollment and completion moves to it and the unconfirmed record goes) or its USCC is
given (the same, when a company has it; else the record is confirmed with it). The goal
counters follow in the same transaction: a confirmed company counts, an unconfirmed one does
not (DESIGN.md), and a company's city decides where its trained staff count."""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, exists, func, update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.cities.models import City
from app.companies import service, validators
from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.errors import Invalid, NotFound
from app.goals import tally
from app.i18n import N_


@dataclass
class Unconfirmed:
    company: Company
    enrollments: int
    completions: int


@dataclass
class Matched:
    company: Company  # the confirmed one the record now is, or was merged into
    enrollments: int
    completions: int


def _of_university(university_id: int):
    return exists().where(
        col(Enrollment.company_id) == Company.id,
        col(Enrollment.course_id) == Course.id,
        col(Course.university_id) == university_id,
    )


def list_unconfirmed(session: Session, university_id: int | None) -> list[Unconfirmed]:
    """The unconfirmed companies, by name, with their enrollments and completions: every one
    for an administrator (None), those named in a university's courses for its staff."""
    enrollments = (
        select(func.count()).where(col(Enrollment.company_id) == Company.id).scalar_subquery()
    )
    completions = (
        select(func.count()).where(col(Completion.company_id) == Company.id).scalar_subquery()
    )
    query = select(Company, enrollments, completions).where(col(Company.uscc).is_(None))
    if university_id is not None:
        query = query.where(_of_university(university_id))
    rows = session.exec(query.order_by(Company.name, col(Company.id)))
    return [Unconfirmed(c, e, d) for c, e, d in rows]


def get_unconfirmed(session: Session, company_id: int, university_id: int | None) -> Company:
    """One unconfirmed company the caller may match; any other is not found, so staff learn
    nothing about the names other universities' trainees typed."""
    query = select(Company).where(Company.id == company_id, col(Company.uscc).is_(None))
    if university_id is not None:
        query = query.where(_of_university(university_id))
    company = session.exec(query).first()
    if company is None:
        raise NotFound(N_("No unconfirmed company has this number"))
    return company


def candidates(session: Session, text: str) -> list[tuple[Company, City | None]]:
    """Confirmed companies whose name holds the text, for the one matching them: staff and
    administrators see every confirmed company, not only the ones the public form lists."""
    return service.search(session, text, limit=20, among=col(Company.uscc).is_not(None))


def match(
    session: Session,
    *,
    company: Company,
    into_id: int | None = None,
    uscc: str | None = None,
    actor: str,
) -> Matched:
    """Match the unconfirmed company to a confirmed one chosen (into_id) or to a USCC."""
    _claim(session, company)
    if into_id is not None:
        into = session.get(Company, into_id)
        if into is None or into.uscc is None:
            raise Invalid([("into", N_("Choose a confirmed company from the list"))])
        return _merge(session, company=company, into=into, actor=actor)
    if not uscc:
        raise Invalid([("uscc", N_("Choose the company, or enter its unified social credit code"))])
    try:
        uscc = validators.normalize_uscc(uscc)
    except validators.InvalidUscc as exc:
        raise Invalid([("uscc", str(exc))]) from exc
    existing = service.get_by_uscc(session, uscc)
    if existing is not None:
        return _merge(session, company=company, into=existing, actor=actor)
    return _confirm(session, company=company, uscc=uscc, actor=actor)


def _claim(session: Session, company: Company) -> None:
    """Two people matching one company at once: the later finds it matched already instead of
    merging it again (a second audit record, or a company confirmed meanwhile deleted). The
    row stays locked until the commit (PostgreSQL) or the write lock is held (SQLite)."""
    claimed = cast(
        CursorResult,
        session.execute(
            update(Company)
            .where(col(Company.id) == company.id, col(Company.uscc).is_(None))
            .values(name_key=Company.name_key)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        raise NotFound(N_("No unconfirmed company has this number"))


def _merge(session: Session, *, company: Company, into: Company, actor: str) -> Matched:
    # The completions of both are counted out and the moved ones counted in with the others:
    # the members counted are distinct companies, so the two must be counted as one.
    both = col(Completion.company_id).in_([company.id, into.id])
    tally.completions_removed(session, both)
    enrollments = _moved(session, Enrollment, company, into)
    completions = _moved(session, Completion, company, into)
    tally.completions_added(session, col(Completion.company_id) == into.id)
    into.vouched = True
    session.add(into)
    audit.record(
        session,
        actor,
        "company.merge",
        "company",
        company.id,
        name=company.name,
        into=into.uscc,
        enrollments=enrollments,
        completions=completions,
    )
    session.delete(company)
    session.flush()
    return Matched(into, enrollments, completions)


def _moved(session: Session, table: Any, company: Company, into: Company) -> int:
    # An UPDATE answers with a CursorResult (rowcount), which Session.execute's type does not say.
    result = cast(
        CursorResult,
        session.execute(
            update(table)
            .where(col(table.company_id) == company.id)
            .values(company_id=into.id)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount


def _confirm(session: Session, *, company: Company, uscc: str, actor: str) -> Matched:
    # Its completions now count for a company, and its city (from the code) may move where its
    # trained staff count: counted out as they were, in as they are.
    mine = col(Completion.company_id) == company.id
    tally.completions_removed(session, mine)
    company.uscc = uscc
    company.city_code = service.city_of(session, uscc)
    company.name_key = None
    company.vouched = True
    session.add(company)
    session.flush()  # the company table's trigger counts it as joined
    tally.completions_added(session, mine)
    enrollments = session.exec(
        select(func.count()).where(col(Enrollment.company_id) == company.id)
    ).one()
    completions = session.exec(select(func.count()).where(mine)).one()
    audit.record(
        session,
        actor,
        "company.confirm",
        "company",
        company.id,
        name=company.name,
        uscc=uscc,
        enrollments=enrollments,
        completions=completions,
    )
    return Matched(company, enrollments, completions)
