import unicodedata
from collections.abc import Mapping

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.cities.models import City
from app.companies import validators
from app.companies.models import CLUSTERS, NOT_A_CLUSTER, Company
from app.completions.models import Completion
from app.db import add_or_get
from app.errors import Invalid
from app.fields import has_control_chars
from app.i18n import N_

# Laiwu (3712) became part of Jinan in 2019; old codes still carry it.
LAIWU_MERGED = {"3712": "3701"}
SHORT_LIST = 10  # what a phone shows without scrolling
MIN_SEARCH = 2
MAX_SEARCH = 100  # a company's name is at most 100 characters


def get_by_uscc(session: Session, uscc: str) -> Company | None:
    return session.exec(select(Company).where(Company.uscc == uscc)).first()


def listed() -> ColumnElement[bool]:
    """The companies the public form lists: confirmed ones a university or an administrator
    stood behind, by recording a completion of their staff (an upload, a roster or the API)
    or by a match (matching.py sets vouched).

    Anyone can register a company by typing a valid USCC, or a name alone; listing those for
    every visitor would let a stranger put any name into the public form."""
    completed = exists().where(col(Completion.company_id) == Company.id)
    return and_(col(Company.uscc).is_not(None), or_(col(Company.vouched), completed))


def search(
    session: Session, text: str, *, field: str = "q", limit: int = SHORT_LIST, among=None
) -> list[tuple[Company, City | None]]:
    """The companies whose name holds the text (case, width and spaces aside; % and _ taken
    literally), shortest names first, each with its city to tell similar names apart: the
    listed ones, or those `among` picks. Shorter than 2 characters: nothing, rather than the
    whole list."""
    words = searched_words(text, field)
    if len(words) < MIN_SEARCH:
        return []
    return list(
        session.exec(
            select(Company, City)
            .outerjoin(City, col(Company.city_code) == City.code)
            .where(
                listed() if among is None else among,
                func.lower(Company.name).contains(words, autoescape=True),
            )
            .order_by(func.length(Company.name), Company.name)
            .limit(limit)
        )
    )


def searched_words(text: str, field: str = "q") -> str:
    words = tidy_name(text).lower()
    if len(words) > MAX_SEARCH:
        raise Invalid([(field, N_("Type at most 100 characters of the name"))])
    # A query string is not a form (app.web checks those): PostgreSQL refuses a NUL (a 500).
    if has_control_chars(words):
        raise Invalid([(field, N_("This field contains invisible control characters"))])
    return words


def tidy_name(raw: str) -> str:
    """A name as typed, with full-width letters, digits and spaces made plain (NFKC) and runs
    of spaces made one."""
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def name_key(name: str) -> str:
    """What makes two typings of an unconfirmed employer the same one."""
    return tidy_name(name).casefold()[:100]


def get_unconfirmed_by_name(session: Session, name: str) -> Company | None:
    return session.exec(select(Company).where(Company.name_key == name_key(name))).first()


def find_or_create(session: Session, *, uscc: str | None, name: str | None) -> Company:
    """The trainee's employer: by its USCC (chosen from the list or typed; one new to us is
    registered with the name given), or by its name alone: an unconfirmed company, the same
    one for every trainee who types that name, until a university or an administrator matches
    it (matching.py)."""
    name = tidy_name(name or "")
    if uscc:
        return _by_uscc_or_new(session, uscc, name)
    if len(name) < 2:
        raise Invalid([("company_name", N_("Enter your employer's full name, or find it above"))])
    company = get_unconfirmed_by_name(session, name)
    if company is not None:
        return company
    key = name_key(name)
    company = Company(name=name[:100], name_key=key)
    return add_or_get(session, company, lambda: get_unconfirmed_by_name(session, key))


def _by_uscc_or_new(session: Session, uscc: str, name: str) -> Company:
    try:
        uscc = validators.normalize_uscc(uscc)
    except validators.InvalidUscc as exc:
        raise Invalid([("company_uscc", str(exc))]) from exc
    company = get_by_uscc(session, uscc)
    if company is not None:
        return company
    if len(name) < 2:
        raise Invalid([("company_name", N_("This company is new to us: enter its full name"))])
    company = Company(uscc=uscc, name=name[:100], city_code=city_of(session, uscc))
    return add_or_get(session, company, lambda: get_by_uscc(session, uscc))


def city_of(session: Session, uscc: str) -> str | None:
    """The region digits of the USCC (positions 3-6) name the city when it is in Shandong."""
    code = LAIWU_MERGED.get(uscc[2:6], uscc[2:6])
    return code if session.get(City, code) else None


def list_all(session: Session) -> list[tuple[Company, City | None]]:
    """Every confirmed company with its city, by name: the administrator's list (the
    unconfirmed ones have their own, matching.unconfirmed)."""
    return list(
        session.exec(
            select(Company, City)
            .outerjoin(City, col(Company.city_code) == City.code)
            .where(col(Company.uscc).is_not(None))
            .order_by(Company.name, col(Company.uscc))
        )
    )


def set_cluster(session: Session, *, company: Company, cluster: str | None, actor: str) -> Company:
    """An administrator files a company under an industry cluster (None: not filed yet)."""
    if cluster is not None and cluster not in CLUSTERS:
        raise Invalid([("cluster", NOT_A_CLUSTER)])
    if cluster != company.cluster:
        audit.record(
            session,
            actor,
            "company.cluster",
            "company",
            company.id,
            before=company.cluster,
            after=cluster,
        )
        company.cluster = cluster
        session.add(company)
        session.flush()
    return company


def employer_choices(session: Session, values: Mapping[str, str]) -> dict:
    """The public form's employer step (templates/courses/public.html): the listed companies
    found for the search typed (company_query), the one chosen before kept among them, and the
    search's error beside its field."""
    query, chosen = values.get("company_query", ""), values.get("company_known", "")
    try:
        found, error = search(session, query, field="company_query"), None
    except Invalid as exc:
        found, error = [], exc.field_messages()["company_query"]
    if chosen and all(company.uscc != chosen for company, _ in found):
        kept = session.exec(
            select(Company, City)
            .outerjoin(City, col(Company.city_code) == City.code)
            .where(listed(), Company.uscc == chosen)
        ).first()
        found = ([kept] if kept else []) + found
    return {
        "company_matches": found,
        "company_searched": error is None and len(tidy_name(query)) >= MIN_SEARCH,
        "company_query_error": error,
    }
