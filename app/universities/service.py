from pathlib import Path

from sqlmodel import Session, func, select

from app.audit import service as audit
from app.certificates import pdf
from app.cities.models import City
from app.courses.models import Course
from app.db import id_of
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.universities import seals
from app.universities.models import CertificateSettings, University, UniversityCreate


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


def update_certificate_settings(
    session: Session,
    university: University,
    data: CertificateSettings,
    *,
    seal: bytes | None,
    data_dir: Path,
    actor: str,
) -> University:
    """The English name, signatory and (when one is uploaded) seal its certificates print.

    Certificates already issued keep what they printed: their PDFs are stored bytes."""
    _check_printable(data)
    png = seals.checked(seal) if seal is not None else None
    for name, value in data.model_dump().items():
        setattr(university, name, value)
    if png is not None:
        university.seal_path = seals.store(data_dir, id_of(university), png)
    session.add(university)
    session.flush()
    audit.record(
        session,
        actor,
        "university.certificate_settings",
        "university",
        university.id,
        **data.model_dump(),
        seal=university.seal_path if png is not None else "unchanged",
    )
    return university


def _check_printable(data: CertificateSettings) -> None:
    """A name the certificate fonts cannot print is refused here, not at every issue."""
    errors = []
    for name, value in data.model_dump().items():
        missing = pdf.unprintable_chars(value or "")
        if missing:
            errors.append((name, pdf.UnprintableText(missing)))
    if errors:
        # One message template for all fields: Invalid carries one set of parameters.
        chars = "; ".join(exc.params["chars"] for _field, exc in errors)
        raise Invalid(
            [(field, pdf.UnprintableText.message) for field, _exc in errors],
            params={"chars": chars},
        )


def seal_png(university: University, data_dir: Path) -> bytes | None:
    return seals.read(data_dir, university.seal_path)


def signatory(university: University, course: Course) -> tuple[str | None, str | None]:
    """(name, title) of who signs the course's certificates: the course's own, else the
    university's."""
    if course.signatory_name:
        return course.signatory_name, course.signatory_title
    return university.signatory_name, university.signatory_title
