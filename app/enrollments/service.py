import hmac
import secrets
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from app import clock
from app.audit import service as audit
from app.companies import service as companies
from app.completions.models import Completion
from app.courses import service as courses
from app.courses.models import Course
from app.db import id_of, utcnow, writing
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

ALREADY_ENROLLED = N_("This ID number is already enrolled in this course")
# Said only to whoever gave the mobile of the enrollment that exists (see AlreadyEnrolled).
ALREADY_YOURS = N_(
    "You are already enrolled in this course: enrollment %(number)s of %(date)s. Its full "
    "number is on the confirmation page you saved or printed; if you no longer have it, "
    "ask %(contact)s."
)


def new_enrollment_no(today: date) -> str:
    return f"BM{today:%y}" + "".join(secrets.choice(_NO_ALPHABET) for _ in range(8))


def masked_no(enrollment_no: str) -> str:
    """BM26****WXYZ: enough for its holder to recognise, not enough to open its page."""
    return enrollment_no[:4] + "*" * (len(enrollment_no) - 8) + enrollment_no[-4:]


class Confirmation(NamedTuple):
    """What the page after enrolling shows, and the API's answer: what happens next."""

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


def contact_of(course: Course, university: University) -> str:
    """Whom a trainee asks about the course: its office's contact, else the university."""
    reach = " / ".join(v for v in (course.contact_phone, course.contact_email) if v)
    if course.contact_name and reach:
        return f"{course.contact_name} ({reach})"
    return course.contact_name or reach or university.name


def enroll(session: Session, data: EnrollmentCreate, *, channel: str, today: date) -> Enrollment:
    """Enroll and commit. The work that needs no lock comes first; the writes, the seat last
    among them, then run in app.db.writing's short section: on SQLite one request at a time
    holds the file's write lock from its first write to its commit, so nothing slow may
    happen in between (the seat taken first held it through all of this request's work)."""
    course = courses.get_by_code(session, data.course_code)
    if course.is_draft:  # answered like a missing course: a draft's code is not yet public
        raise NotFound(N_("No course has this code"))
    if not courses.is_enrolling(course, today):
        raise Conflict(N_("Enrollment for this course is closed"))
    # The seat first and the name before "already enrolled": the answers must not tell a
    # stranger holding an ID number whether it is registered, under which name, or where.
    # Every check that does not depend on who holds the number (the seat, the employer) comes
    # first, so that its answer is the same for a registered and an unregistered number. The
    # seat is checked here and taken at the end by one atomic UPDATE: a course filled in
    # between is still refused "full", after checks whose answers a stranger could get anyway.
    if course.seats_taken >= course.capacity:
        raise _full()
    k = keys_of(session)
    mobile_sealed = k.encrypt(data.mobile)
    email_sealed = k.encrypt(data.email) if data.email else None
    with writing(session):
        company = companies.find_or_create(session, uscc=data.company_uscc, name=data.company_name)
        trainee = trainees.get_by_id_number(session, data.id_number)
        if trainee is not None:
            trainees.check_name(trainee, data.name)
            existing = _enrollment_of(session, id_of(trainee), id_of(course))
            if existing is not None:
                raise AlreadyEnrolled.of(session, existing, course, data.mobile)
        trainee = trainee or trainees.register(session, id_number=data.id_number, name=data.name)
        enrollment = Enrollment(
            enrollment_no=new_enrollment_no(today),
            course_id=id_of(course),
            trainee_id=id_of(trainee),
            company_id=id_of(company),
            consent_version=CONSENT_VERSION,
            consent_at=utcnow(),
            consent_channel=channel,
            share_with_employer=data.share_with_employer,
            mobile_encrypted=mobile_sealed,
            mobile_masked=masked(data.mobile),
            email_encrypted=email_sealed,
        )
        session.add(enrollment)
        session.flush()
        audit.record(
            session,
            "public",
            "enrollment.create",
            "enrollment",
            enrollment.id,
            course=course.code,
            channel=channel,
        )
        # Last: on PostgreSQL the course's row and the goal counters' rows, which every
        # enrollment of the course updates, stay locked only until the commit right after.
        _take_seat(session, course)
        tally.enrollments_added(session, col(Enrollment.id) == enrollment.id)
    return enrollment


def mobile_of(session: Session, enrollment: Enrollment) -> str:
    return keys_of(session).decrypt(enrollment.mobile_encrypted)


class AlreadyEnrolled(Conflict):
    """The ID number, under the right name, is enrolled in the course already. `existing` is
    that enrollment only when the mobile given is the one it was made with: a stranger who
    has an ID number and its holder's name learns no more than before (the neutral message),
    while the holder, who knows their own mobile, is told which enrollment it is."""

    def __init__(self, message: str = ALREADY_ENROLLED, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.existing: Enrollment | None = None

    @classmethod
    def of(
        cls, session: Session, existing: Enrollment, course: Course, mobile: str
    ) -> "AlreadyEnrolled":
        if not hmac.compare_digest(mobile_of(session, existing).encode(), mobile.encode()):
            return cls()
        university = courses.university_of(session, course)
        enrolled_on = clock.in_china(existing.created_at)
        answer = cls(
            ALREADY_YOURS,
            params={
                "number": masked_no(existing.enrollment_no),
                "date": enrolled_on.date().isoformat(),
                "contact": contact_of(course, university),
            },
        )
        answer.existing = existing
        return answer


def _full() -> Conflict:
    return Conflict(N_("This course is full"))


def _enrollment_of(session: Session, trainee_id: int, course_id: int) -> Enrollment | None:
    return session.exec(
        select(Enrollment).where(
            Enrollment.trainee_id == trainee_id, Enrollment.course_id == course_id
        )
    ).first()


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
        raise _full()
    session.expire(course, ["seats_taken"])  # read again when asked, not now inside the lock


WITHDRAWN_ALREADY = N_("This enrollment was withdrawn already")


def withdraw(
    session: Session, enrollment: Enrollment, *, actor: str, today: date, started_too: bool = False
) -> None:
    """Withdraw the enrollment: its seat returns and the goal counters follow, in the caller's
    transaction. Refused when a completion records it (the record and what it counts stay)
    and, unless started_too (an erasure an administrator confirmed), once the course started."""
    if session.exec(select(Completion.id).where(Completion.enrollment_id == enrollment.id)).first():
        raise Conflict(N_("This enrollment has a completion: it can no longer be withdrawn"))
    course = session.get_one(Course, enrollment.course_id)
    if not started_too and course.starts_on <= today:
        raise Conflict(N_("The course has started: the enrollment can no longer be withdrawn"))
    # The row is locked first (a no-op UPDATE): two withdrawals at once must not both take
    # the enrollment off the counters. The one that waited finds it withdrawn.
    locked = cast(
        CursorResult[Any],
        session.execute(
            update(Enrollment)
            .where(col(Enrollment.id) == enrollment.id, col(Enrollment.status) == "enrolled")
            .values(status=Enrollment.status)
        ),
    )
    if locked.rowcount != 1:
        raise Conflict(WITHDRAWN_ALREADY)
    tally.enrollments_removed(session, col(Enrollment.id) == enrollment.id)
    session.execute(
        update(Enrollment).where(col(Enrollment.id) == enrollment.id).values(status="withdrawn")
    )
    session.execute(
        update(Course)
        .where(col(Course.id) == course.id, col(Course.seats_taken) > 0)
        .values(seats_taken=Course.seats_taken - 1)
    )
    session.expire(enrollment, ["status"])
    session.expire(course, ["seats_taken"])
    audit.record(
        session, actor, "enrollment.withdraw", "enrollment", enrollment.id, course=course.code
    )
