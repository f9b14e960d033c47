"""What each export holds, row by row, in the reader's language.

The goal summary counts as DESIGN.md's Goal counting does, over the completions whose date
falls in the range: distinct entities, never rows. A university counts in its own city; a
company, and its employees who completed, in the company's city, so a trainee who completed
while working for two companies counts in both companies' rows (and cities). A university's
staff get its own part: what was completed in its own courses.
"""

from datetime import date
from typing import NamedTuple

from sqlalchemy import distinct, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import db
from app.certificates import roster
from app.certificates.models import Certificate
from app.certificates.serials import format_serial
from app.cities.models import City
from app.companies.models import CLUSTER_NAMES, Company
from app.completions.models import Completion
from app.courses.models import Course
from app.exports.sheets import Table
from app.goals import breakdowns
from app.goals.dashboard import NO_CLUSTER
from app.goals.definitions import FIGURES
from app.i18n import N_, current_language, gettext
from app.security import keys_of
from app.trainees.models import Trainee
from app.universities.models import University

GOAL_FIGURES = ("universities", "companies", "talents")
ELSEWHERE = ("省外及其他", "Outside Shandong or unknown")


def in_range(query, date_from: date, date_to: date, university_id: int | None):
    query = query.where(
        col(Completion.completed_on) >= date_from, col(Completion.completed_on) <= date_to
    )
    if university_id is not None:
        query = query.where(col(Completion.university_id) == university_id)
    return query


def _figure(key: str) -> str:
    return gettext(FIGURES[key].name)


def _city_names(session: Session) -> dict[str | None, str]:
    english = current_language() == "en"
    names: dict[str | None, str] = {
        c.code: c.name_en if english else c.name for c in session.exec(select(City))
    }
    names[None] = ELSEWHERE[english]
    return names


def goal_tables(
    session: Session, *, date_from: date, date_to: date, university_id: int | None
) -> list[Table]:
    """The goals by city, by university and by company, over the range."""
    return [
        _by_city(session, date_from, date_to, university_id),
        _by_university(session, date_from, date_to, university_id),
        _by_company(session, date_from, date_to, university_id),
    ]


def _by_city(session: Session, start: date, end: date, university_id: int | None) -> Table:
    cities = breakdowns.by_city(session, university_id, date_from=start, date_to=end)
    total = session.exec(
        in_range(
            select(
                func.count(distinct(col(Completion.university_id))),
                func.count(distinct(col(Completion.company_id))),
                func.count(distinct(col(Completion.trainee_id))),
            ),
            start,
            end,
            university_id,
        )
    ).one()
    names = _city_names(session)
    rows: list[list] = [
        [c.code or "", names[c.code], c.universities, c.companies, c.talents] for c in cities
    ]
    rows.append(["", gettext(N_("Whole province, each counted once")), *total])
    header = [gettext(N_("City code")), gettext(N_("City")), *map(_figure, GOAL_FIGURES)]
    return Table(gettext(N_("By city")), header, rows, (10, 24, 14, 14, 16))


def _by_university(session: Session, start: date, end: date, university_id: int | None) -> Table:
    companies = func.count(distinct(col(Completion.company_id)))
    talents = func.count(distinct(col(Completion.trainee_id)))
    found = session.execute(
        in_range(
            sa_select(
                col(University.code),
                col(University.name),
                col(University.city_code),
                companies,
                talents,
            )
            .join(University, col(Completion.university_id) == University.id)
            .group_by(
                col(University.id),
                col(University.code),
                col(University.name),
                col(University.city_code),
            )
            .order_by(talents.desc(), col(University.code)),
            start,
            end,
            university_id,
        )
    ).all()
    names = _city_names(session)
    rows = [[code, name, names.get(city, city), c, t] for code, name, city, c, t in found]
    header = [
        gettext(N_("Code")),
        gettext(N_("University name")),
        gettext(N_("City")),
        _figure("companies"),
        _figure("talents"),
    ]
    return Table(gettext(N_("By university")), header, rows, (12, 30, 12, 14, 16))


def _by_company(session: Session, start: date, end: date, university_id: int | None) -> Table:
    talents = func.count(distinct(col(Completion.trainee_id)))
    found = session.execute(
        in_range(
            sa_select(
                col(Company.uscc),
                col(Company.name),
                col(Company.city_code),
                col(Company.cluster),
                talents,
            )
            .join(Company, col(Completion.company_id) == Company.id)
            .group_by(
                col(Company.id),
                col(Company.uscc),
                col(Company.name),
                col(Company.city_code),
                col(Company.cluster),
            )
            .order_by(talents.desc(), col(Company.uscc)),
            start,
            end,
            university_id,
        )
    ).all()
    names = _city_names(session)
    rows = [
        [uscc, name, names[city], gettext(CLUSTER_NAMES[cluster] if cluster else NO_CLUSTER), n]
        for uscc, name, city, cluster, n in found
    ]
    header = [
        gettext(N_("Unified Social Credit Code")),
        gettext(N_("Company name")),
        gettext(N_("City")),
        gettext(N_("Industry cluster")),
        _figure("talents"),
    ]
    return Table(gettext(N_("By company")), header, rows, (22, 36, 12, 16, 16))


def goal_definitions() -> list[list[str]]:
    """Each figure's one name and one-line definition (app/goals/definitions.py)."""
    return [[_figure(k), gettext(FIGURES[k].definition)] for k in GOAL_FIGURES]


# The completions and certificates.


def completion_ids(
    session: Session, *, date_from: date, date_to: date, university_id: int | None
) -> list[int]:
    query = in_range(select(col(Completion.id)), date_from, date_to, university_id)
    return [n for n in session.exec(query.order_by(col(Completion.id))) if n is not None]


def completion_header() -> list[str]:
    return [
        gettext(N_("University")),
        gettext(N_("Course code")),
        gettext(N_("Title")),
        gettext(N_("Name")),
        gettext(N_("ID number")),
        gettext(N_("Company name")),
        gettext(N_("Unified Social Credit Code")),
        gettext(N_("City")),
        gettext(N_("Completed on")),
        gettext(N_("Hours")),
        gettext(N_("Score")),
        gettext(N_("Serial number")),
        gettext(N_("State")),
        gettext(N_("Issued on")),
    ]


COMPLETION_WIDTHS = (24, 14, 28, 10, 20, 32, 22, 10, 12, 6, 6, 20, 16, 12)
# A superseded certificate has its reissue beside it: the last one is what the trainee holds.
_STATE = {"issued": roster.CERTIFIED}


def completion_rows(
    session: Session,
    *,
    first_id: int,
    last_id: int,
    date_from: date,
    date_to: date,
    university_id: int | None,
    full_ids: bool,
) -> list[list]:
    """The completions with ids first_id to last_id (both included) that the range holds,
    with their certificate (the valid one, else the last revoked one), in id order."""
    ids = col(Completion.id)
    person = col(Trainee.id_encrypted) if full_ids else col(Trainee.id_masked)
    # Columns rather than objects: a part's 5,000 rows load several times faster.
    found = session.execute(
        in_range(
            sa_select(
                ids,
                col(University.name),
                col(Course.code),
                col(Course.title),
                col(Trainee.name),
                person,
                col(Company.name),
                col(Company.uscc),
                col(Company.city_code),
                col(Completion.completed_on),
                col(Completion.hours),
                col(Completion.grade),
                col(Completion.score),
            )
            .join(University, col(Completion.university_id) == University.id)
            .join(Course, col(Completion.course_id) == Course.id)
            .join(Trainee, col(Completion.trainee_id) == Trainee.id)
            .join(Company, col(Completion.company_id) == Company.id)
            .where(ids >= first_id, ids <= last_id)
            .order_by(ids),
            date_from,
            date_to,
            university_id,
        )
    ).all()
    certificates = _certificates(session, [row[0] for row in found])
    cities, keys = _city_names(session), keys_of(session)
    states = {s: gettext(label) for s, label in roster.STATES.items()}
    rows = []
    for (
        n,
        university,
        code,
        title,
        name,
        id_number,
        company,
        uscc,
        city,
        on,
        hours,
        grade,
        score,
    ) in found:
        cert = certificates.get(n)
        state = roster.COMPLETED if cert is None else _STATE.get(cert.status, roster.REVOKED)
        rows.append(
            [
                university,
                code,
                title,
                name,
                keys.decrypt(id_number) if full_ids else id_number,
                company,
                uscc,
                cities[city],
                on,
                hours,
                grade or score,
                format_serial(cert.serial) if cert else "",
                states[state],
                cert.issued_on if cert else "",
            ]
        )
    return rows


class _Held(NamedTuple):
    status: str
    serial: str
    issued_on: date


def _certificates(session: Session, completion_ids: list[int]) -> dict[int, _Held]:
    """The certificates of these completions only (a range of ids holds other universities'
    and other dates' completions too)."""
    found: dict[int, _Held] = {}
    completion = col(Certificate.completion_id)
    for completion_id, status, serial, issued_on in session.execute(
        sa_select(
            completion, col(Certificate.status), col(Certificate.serial), col(Certificate.issued_on)
        )
        .where(db.among(session, completion, completion_ids))
        .order_by(col(Certificate.id))
    ):
        held = found.get(completion_id)
        if held is None or held.status != "issued":  # a valid one stays; else the latest
            found[completion_id] = _Held(status, serial, issued_on)
    return found
