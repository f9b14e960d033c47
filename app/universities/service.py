from sqlmodel import Session, func, select

from app.audit import service as audit
from app.cities.models import City
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.universities.models import University, UniversityCreate


def get_by_code(session: Session, code: str) -> University:
    university = session.exec(
        select(University).where(University.code == code.strip().upper())
    ).first()
    if university is None:
        raise NotFound(N_("No university has this code"))
    return university


def list_all(session: Session) -> list[University]:
    return list(session.exec(select(University).order_by(University.code)))


def cities(session: Session) -> list[City]:
    return list(session.exec(select(City).order_by(City.code)))


def create(session: Session, data: UniversityCreate, *, actor: str) -> University:
    if session.get(City, data.city_code) is None:
        raise Invalid([("city_code", N_("Choose one of Shandong's 16 cities"))])
    taken = session.exec(select(func.count()).where(University.code == data.code)).one()
    if taken:
        raise Conflict(N_("A university with this code already exists"), field="code")
    university = University.model_validate(data)
    session.add(university)
    session.flush()
    audit.record(session, actor, "university.create", "university", university.id)
    return university
