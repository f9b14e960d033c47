from sqlmodel import Session, col, select

from app.audit import service as audit
from app.cities.models import City
from app.companies import validators
from app.companies.models import CLUSTERS, NOT_A_CLUSTER, Company
from app.completions.models import Completion
from app.db import add_or_get
from app.errors import Invalid
from app.i18n import N_

# Laiwu (3712) became part of Jinan in 2019; old codes still carry it.
LAIWU_MERGED = {"3712": "3701"}


def get_by_uscc(session: Session, uscc: str) -> Company | None:
    return session.exec(select(Company).where(Company.uscc == uscc)).first()


def list_confirmed(session: Session) -> list[Company]:
    """Companies a university has confirmed by recording a completion of one of their staff.

    Anyone can register a company by typing a valid USCC; listing those for every visitor
    would let a stranger put any name into the public form."""
    confirmed = select(Completion.company_id).distinct()
    return list(
        session.exec(select(Company).where(col(Company.id).in_(confirmed)).order_by(Company.name))
    )


def find_or_create(session: Session, *, uscc: str, name: str | None) -> Company:
    """A trainee names the employer by USCC; an unknown one is registered with the name given."""
    try:
        uscc = validators.normalize_uscc(uscc)
    except validators.InvalidUscc as exc:
        raise Invalid([("company_uscc", str(exc))]) from exc
    company = get_by_uscc(session, uscc)
    if company is not None:
        return company
    name = (name or "").strip()
    if len(name) < 2:
        raise Invalid([("company_name", N_("This company is new to us: enter its full name"))])
    company = Company(uscc=uscc, name=name[:100], city_code=city_of(session, uscc))
    return add_or_get(session, company, lambda: get_by_uscc(session, uscc))


def city_of(session: Session, uscc: str) -> str | None:
    """The region digits of the USCC (positions 3-6) name the city when it is in Shandong."""
    code = LAIWU_MERGED.get(uscc[2:6], uscc[2:6])
    return code if session.get(City, code) else None


def list_all(session: Session) -> list[tuple[Company, City | None]]:
    """Every company with its city, by name: the administrator's list."""
    return list(
        session.exec(
            select(Company, City)
            .outerjoin(City, col(Company.city_code) == City.code)
            .order_by(Company.name, Company.uscc)
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
