from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.datastructures import FormData

from app import clock
from app.auth import throttle
from app.auth.deps import load_user
from app.auth.throttle import Limit
from app.courses.deps import PublicCourse
from app.courses.pages import public_page
from app.db import SessionDep
from app.enrollments import service
from app.enrollments.models import EnrollmentCreate
from app.enrollments.service import AlreadyEnrolled
from app.errors import AppError, Conflict, Invalid
from app.i18n import N_, gettext
from app.trainees.service import NameMismatch
from app.web import FormDep, form_values, redirect, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["enrollments"])

FIELDS = [
    "name",
    "id_number",
    "mobile",
    "email",
    "company_known",
    "company_uscc",
    "company_name",
    "consent",
    "share_with_employer",
]


def _as_submitted(values: dict[str, str], course_code: str) -> FormData:
    """The form's fields as EnrollmentCreate names them: the employer chosen from the list or
    typed, and each checkbox ticked ("yes") or not."""
    return FormData(
        {
            **values,
            "course_code": course_code,
            "company_uscc": values["company_uscc"] or values["company_known"],
            "consent": str(values["consent"] == "yes").lower(),
            "share_with_employer": str(values["share_with_employer"] == "yes").lower(),
        }
    )


# The form is read (and its CSRF token checked) before the course is looked up.
@router.post("/courses/{code}/enroll", name="enrollments:create")
def enroll(request: Request, session: SessionDep, form: FormDep, course: PublicCourse):
    values = form_values(form, FIELDS)
    data, errors = validate_form(
        EnrollmentCreate, _as_submitted(values, course.code), list(EnrollmentCreate.model_fields)
    )
    if data is None:
        return public_page(request, session, course, values=values, errors=errors, status_code=422)
    _limit_guessing(request, session, data)
    try:
        enrollment = service.enroll(session, data, channel="web", today=clock.today())
        session.commit()
    except Invalid as exc:
        session.rollback()
        if isinstance(exc, NameMismatch):
            _count_name_mismatch(request, session, data.id_number)
        return public_page(
            request, session, course, values=values, errors=exc.field_messages(), status_code=422
        )
    except (Conflict, IntegrityError) as exc:
        session.rollback()
        message = (
            exc.message
            if isinstance(exc, AppError)
            else N_("This ID number is already enrolled in this course")
        )
        return public_page(
            request, session, course, values=values, status_code=409, notice=gettext(message)
        )
    return redirect(
        request, str(request.url_for("enrollments:done", enrollment_no=enrollment.enrollment_no))
    )


@router.get("/enrollments/{enrollment_no}", name="enrollments:done")
def confirmation(request: Request, session: SessionDep, enrollment_no: str):
    return render(
        request, "enrollments/done.html", service.confirmation(session, enrollment_no)._asdict()
    )


class EnrollmentCreated(BaseModel):
    enrollment_no: str
    status: str


# Trying names against an ID number is guessing, limited like a wrong password. Every attempt
# counts, and once a limit is reached every attempt is refused the same way whatever its name,
# so "already enrolled" or "enrolled" can no longer tell a guesser that a name was right.
ATTEMPTS_PER_ID_AND_ADDRESS = 10
MISMATCHES_PER_ADDRESS = 10  # an address that tried 10 wrong names may try no ID number at all
# Over all addresses, against guessers with many: it takes 10 addresses, never one, to close
# an ID number to its holder.
ADDRESSES_WITH_MISMATCHES_PER_ID = 10
# A script from one address must not take every seat of a course with made-up ID numbers in
# seconds. A class enrolling on campus Wi-Fi at its first lesson, or a company from one
# office, shares one address: these leave room for them. Checking the mobile by SMS (a
# later issue) is what makes made-up enrollments expensive.
ATTEMPTS_PER_COURSE_AND_ADDRESS = 60
ATTEMPTS_PER_ADDRESS = 200


def _limit_guessing(request: Request, session: Session, data: EnrollmentCreate) -> None:
    ip = throttle.client_address(request)
    throttle.refuse_when_reached(
        session,
        [
            ("name-mismatch-ip", ip, MISMATCHES_PER_ADDRESS),
            Limit(
                "name-mismatch-id",
                data.id_number,
                ADDRESSES_WITH_MISMATCHES_PER_ID,
                by_address=True,
            ),
        ],
    )
    throttle.attempt(
        session,
        [
            ("enroll-ip-id", f"{ip}|{data.id_number}", ATTEMPTS_PER_ID_AND_ADDRESS),
            (
                "enroll-ip-course",
                f"{ip}|{data.course_code.strip().upper()}",
                ATTEMPTS_PER_COURSE_AND_ADDRESS,
            ),
            ("enroll-ip", ip, ATTEMPTS_PER_ADDRESS),
        ],
        source=ip,
    )


def _count_name_mismatch(request: Request, session: Session, id_number: str) -> None:
    ip = throttle.client_address(request)
    throttle.record(session, [("name-mismatch-ip", ip), ("name-mismatch-id", id_number)], source=ip)


@api.post("/enrollments", status_code=status.HTTP_201_CREATED, response_model=EnrollmentCreated)
def enroll_api(request: Request, session: SessionDep, data: EnrollmentCreate):
    _limit_guessing(request, session, data)
    try:
        enrollment = service.enroll(session, data, channel="api", today=clock.today())
        session.commit()
    except NameMismatch:
        session.rollback()
        _count_name_mismatch(request, session, data.id_number)
        raise
    except IntegrityError as exc:
        raise AlreadyEnrolled(N_("This ID number is already enrolled in this course")) from exc
    return EnrollmentCreated(enrollment_no=enrollment.enrollment_no, status=enrollment.status)
