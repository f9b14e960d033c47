from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.cities.models import City
from app.courses.models import Course, CourseCertificateText, CourseCreate
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.universities.models import University


def get_by_code(session: Session, code: str) -> Course:
    course = session.exec(select(Course).where(Course.code == code.strip().upper())).first()
    if course is None:
        raise NotFound(N_("No course has this code"))
    return course


def university_of(session: Session, course: Course) -> University:
    return session.get_one(University, course.university_id)


def is_enrolling(course: Course, today: date) -> bool:
    closes = min(course.enroll_closes_on or course.ends_on, course.ends_on)
    return course.is_open and today <= closes


def list_open(session: Session, today: date) -> list[tuple[Course, University, City]]:
    """The public catalog: courses still taking enrollments, soonest first."""
    rows = session.exec(
        select(Course, University, City)
        .join(University, col(Course.university_id) == University.id)
        .join(City, col(University.city_code) == City.code)
        .where(col(Course.is_open).is_(True), Course.ends_on >= today)
        .order_by(col(Course.starts_on), col(Course.code))
    )
    return [row for row in rows if is_enrolling(row[0], today)]


def list_for_university(session: Session, university_id: int) -> list[Course]:
    return list(
        session.exec(
            select(Course)
            .where(Course.university_id == university_id)
            .order_by(col(Course.starts_on).desc())
        )
    )


def create(session: Session, *, university: University, data: CourseCreate, actor: str) -> Course:
    taken = Conflict(N_("A course with this code already exists"), field="code")
    if session.exec(select(Course.id).where(Course.code == data.code)).first():
        raise taken
    course = Course.model_validate(data, update={"university_id": university.id})
    session.add(course)
    try:
        session.flush()
    except IntegrityError as exc:  # the same code, created a moment ago by someone else
        raise taken from exc
    audit.record(session, actor, "course.create", "course", course.id)
    return course


def update_certificate_text(
    session: Session, course: Course, data: CourseCertificateText, *, actor: str
) -> Course:
    """Certificates already issued keep what they printed; the next ones print this."""
    for name, value in data.model_dump().items():
        setattr(course, name, value)
    session.add(course)
    session.flush()
    audit.record(
        session, actor, "course.certificate_text", "course", course.id, **data.model_dump()
    )
    return course
