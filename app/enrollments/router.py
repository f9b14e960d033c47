from datetime import date

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.datastructures import FormData

from app import clock
from app.auth import throttle
from app.auth.deps import load_user
from app.auth.throttle import Limit
from app.courses.deps import PublicCourse
from app.courses.models import MODE_NAMES
from app.courses.pages import public_page
from app.db import SessionDep, writing
from app.enrollments import image, service
from app.enrollments.models import EnrollmentCreate
from app.enrollments.service import AlreadyEnrolled
from app.errors import AppError, Conflict, Invalid
from app.i18n import gettext
from app.middleware import SCRIPT_CSP
from app.trainees.service import NameMismatch
from app.web import FormDep, form_values, redirect, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["enrollments"])

FIELDS = [
    "name",
    "id_number",
    "mobile",
    "email",
    "company_query",
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
    if form.get("action") == "find_company":  # the employer search without JavaScript: a step
        return public_page(request, session, course, values=values)
    data, errors = validate_form(
        EnrollmentCreate, _as_submitted(values, course.code), list(EnrollmentCreate.model_fields)
    )
    if data is None:
        return public_page(request, session, course, values=values, errors=errors, status_code=422)
    _limit_guessing(request, session, data)
    try:
        enrollment = service.enroll(session, data, channel="web", today=clock.today())
    except Invalid as exc:
        session.rollback()
        if isinstance(exc, NameMismatch):
            _count_name_mismatch(request, session, data.id_number)
        return public_page(
            request, session, course, values=values, errors=exc.field_messages(), status_code=422
        )
    except (Conflict, IntegrityError) as exc:
        session.rollback()
        # An IntegrityError: two requests of one ID number at once, the later one refused.
        known = exc if isinstance(exc, AppError) else AlreadyEnrolled()
        notice = gettext(known.message, **known.params)
        return public_page(request, session, course, values=values, status_code=409, notice=notice)
    return redirect(
        request, str(request.url_for("enrollments:done", enrollment_no=enrollment.enrollment_no))
    )


# The confirmation runs one script, /static/print.js (its print button): the site's policy
# with scripts from this origin allowed, still no inline script.


# Before the page's route, whose {enrollment_no} would take "BM26….png" too.
@router.get("/enrollments/{enrollment_no}.png", name="enrollments:image")
def confirmation_image(request: Request, session: SessionDep, enrollment_no: str):
    """The confirmation as a picture to keep on the phone (PrintingUnavailable, 503, naming
    the package to install, when the server has no CJK font)."""
    done = service.confirmation(session, enrollment_no)
    return Response(image.draw(done), media_type="image/png")


@router.get("/enrollments/{enrollment_no}", name="enrollments:done")
def confirmation(request: Request, session: SessionDep, enrollment_no: str):
    done = service.confirmation(session, enrollment_no)
    response = render(
        request,
        "enrollments/done.html",
        {
            **done._asdict(),
            "mode_name": MODE_NAMES.get(done.course.mode, ""),
        },
    )
    response.headers["Content-Security-Policy"] = SCRIPT_CSP
    return response


class Contact(BaseModel):
    name: str | None
    phone: str | None
    email: str | None


class EnrollmentCreated(BaseModel):
    """The enrollment and what happens next: where and when the course starts, whom to ask."""

    enrollment_no: str
    status: str
    course_code: str
    course_title: str
    university: str
    starts_on: date
    ends_on: date
    mode: str
    venue: str | None
    contact: Contact
    confirmation_url: str
    image_url: str


def _created(request: Request, done: service.Confirmation) -> EnrollmentCreated:
    base = request.app.state.settings.public_url.rstrip("/")
    no = done.enrollment.enrollment_no
    course = done.course
    return EnrollmentCreated(
        enrollment_no=no,
        status=done.enrollment.status,
        course_code=course.code,
        course_title=course.title,
        university=done.university.name,
        starts_on=course.starts_on,
        ends_on=course.ends_on,
        mode=course.mode,
        venue=course.venue,
        contact=Contact(
            name=course.contact_name, phone=course.contact_phone, email=course.contact_email
        ),
        confirmation_url=base + request.url_for("enrollments:done", enrollment_no=no).path,
        image_url=base + request.url_for("enrollments:image", enrollment_no=no).path,
    )


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
    """Refused before anything else once a limit is reached; the attempt counted (written and
    committed) in the writer section of app.db, in turn with the other requests' writes."""
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
    with writing(session):
        _attempt(session, data, ip)


def _attempt(session: Session, data: EnrollmentCreate, ip: str) -> None:
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
    with writing(session):
        throttle.record(
            session, [("name-mismatch-ip", ip), ("name-mismatch-id", id_number)], source=ip
        )


@api.post("/enrollments", status_code=status.HTTP_201_CREATED, response_model=EnrollmentCreated)
def enroll_api(request: Request, session: SessionDep, data: EnrollmentCreate):
    """Enroll in a course; the answer says what happens next. Enrolling again in the same
    course is a 409 whose `detail` says so; when the mobile given is the one the existing
    enrollment was made with, the answer also has `enrollment` (`enrollment_no_masked`,
    `enrolled_on`) and `detail` names them and whom to ask."""
    _limit_guessing(request, session, data)
    try:
        enrollment = service.enroll(session, data, channel="api", today=clock.today())
    except NameMismatch:
        session.rollback()
        _count_name_mismatch(request, session, data.id_number)
        raise
    except AlreadyEnrolled as exc:
        return _already_enrolled(exc)
    except IntegrityError:
        # Two requests of one ID number at once: the later one meets the unique constraint.
        session.rollback()
        return _already_enrolled(AlreadyEnrolled())
    return _created(request, service.confirmation(session, enrollment.enrollment_no))


def _already_enrolled(exc: AlreadyEnrolled) -> JSONResponse:
    """409 with the page's message; the enrollment that exists only when the mobile given is
    its own (service.AlreadyEnrolled)."""
    body: dict = {"detail": gettext(exc.message, **exc.params)}
    if exc.existing is not None:
        body["enrollment"] = {
            "enrollment_no_masked": exc.params["number"],
            "enrolled_on": exc.params["date"],
        }
    return JSONResponse(body, status_code=409)
