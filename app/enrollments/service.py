import secrets
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.companies import service as companies
from app.courses import service as courses
from app.courses.models import Course
from app.db import id_of, utcnow
from app.enrollments.models import CONSENT_VERSION, Enrollment, EnrollmentCreate
from app.errors import Conflict, NotFound
from app.goals import tally
from app.i18n import N_
from app.security import keys_of
from app.text import masked
from app.trainees import service as trainees
from app.trainees import validators
from app.trainees.models import Trainee
from app.universities.models import University

_NO_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read out on the phone


def new_enrollment_no(today: date) -> str:
    return f"BM{today:%y}" + "".join(secrets.choice(_NO_ALPHABET) for _ in range(8))


class Confirmation(NamedTuple):
    """What the page after enrolling shows."""

    enrollment: Enrollment
    course: Course
    university: University
    holder: str  # the trainee's name, masked: the number alone must not reveal whose it is


def confirmation(session: Session, enrollment_no: str) -> Confirmation:
    row = session.exec(
        select(Enrollment, Course, University, Trainee)
        .join(Course, col(Enrollment.course_id) == Course.id)
        .join(University, col(Course.university_id) == University.id)
        .join(Trainee, col(Enrollment.trainee_id) == Trainee.id)
        .where(Enrollment.enrollment_no == enrollment_no.strip().upper())
    ).first()
    if row is None:
        raise NotFound(N_("No enrollment has this number"))
    enrollment, course, university, trainee = row
    return Confirmation(enrollment, course, university, validators.mask_name(trainee.name))


def enroll(session: Session, data: EnrollmentCreate, *, channel: str, today: date) -> Enrollment:
    course = courses.get_by_code(session, data.course_code)
    if not courses.is_enrolling(course, today):
        raise Conflict(N_("Enrollment for this course is closed"))
    # The seat first and the name before "already enrolled": the answers must not tell a
    # stranger holding an ID number whether it is registered, under which name, or where.
    # Every check that does not depend on who holds the number (the seat, the employer) comes
    # first, so that its answer is the same for a registered and an unregistered number.
    _take_seat(session, course)
    company = companies.find_or_create(session, uscc=data.company_uscc, name=data.company_name)
    trainee = trainees.get_by_id_number(session, data.id_number)
    if trainee is not None:
        trainees.check_name(trainee, data.name)
        if _enrolled(session, id_of(trainee), id_of(course)):
            raise AlreadyEnrolled(N_("This ID number is already enrolled in this course"))
    trainee = trainee or trainees.register(session, id_number=data.id_number, name=data.name)
    k = keys_of(session)
    enrollment = Enrollment(
        enrollment_no=new_enrollment_no(today),
        course_id=id_of(course),
        trainee_id=id_of(trainee),
        company_id=id_of(company),
        consent_version=CONSENT_VERSION,
        consent_at=utcnow(),
        consent_channel=channel,
        share_with_employer=data.share_with_employer,
        mobile_encrypted=k.encrypt(data.mobile),
        mobile_masked=masked(data.mobile),
        email_encrypted=k.encrypt(data.email) if data.email else None,
    )
    session.add(enrollment)
    session.flush()
    tally.enrollments_added(session, col(Enrollment.id) == enrollment.id)
    audit.record(
        session,
        "public",
        "enrollment.create",
        "enrollment",
        enrollment.id,
        course=course.code,
        channel=channel,
    )
    return enrollment


def mobile_of(session: Session, enrollment: Enrollment) -> str:
    return keys_of(session).decrypt(enrollment.mobile_encrypted)


class AlreadyEnrolled(Conflict):
    pass


def _enrolled(session: Session, trainee_id: int, course_id: int) -> bool:
    return (
        session.exec(
            select(Enrollment.id).where(
                Enrollment.trainee_id == trainee_id, Enrollment.course_id == course_id
            )
        ).first()
        is not None
    )


def _take_seat(session: Session, course: Course) -> None:
    """One atomic UPDATE, so two people cannot take the last seat at once."""
    # An UPDATE answers with a CursorResult (rowcount), which Session.execute's type does not say.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Course)
            .where(col(Course.id) == course.id, col(Course.seats_taken) < Course.capacity)
            .values(seats_taken=Course.seats_taken + 1)
        ),
    )
    if result.rowcount != 1:
        raise Conflict(N_("This course is full"))
    session.refresh(course)
