import re

from fastapi import APIRouter, Depends, Request, status

from app import clock
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.courses import service
from app.courses.deps import ApiOwnCourse, OwnCourse, PublicCourse
from app.courses.form_page import form_page, values_of
from app.courses.models import (
    MODE_NAMES,
    STATE_NAMES,
    Course,
    CourseCertificateText,
    CourseCreate,
    CourseEditForm,
    CourseForm,
    CoursePublic,
    CourseUpdate,
)
from app.courses.pages import public_page, staff_page
from app.db import SessionDep, id_of
from app.i18n import N_
from app.universities.deps import ApiOwnUniversity, StaffUniversity
from app.web import FormDep, redirect, render, safe_path, submit, templates

router = APIRouter(dependencies=[Depends(load_user)])


def paragraphs(text: str | None) -> list[list[str]]:
    """Plain text as pages show it: paragraphs split on blank lines, each a list of its lines
    (escaped by the template like any text: HTML typed into a description stays text)."""
    blocks = re.split(r"\n\s*\n", (text or "").strip())
    return [
        [line.strip() for line in block.splitlines() if line.strip()]
        for block in blocks
        if block.strip()
    ]


templates.env.filters["paragraphs"] = paragraphs
# A course's state (service.state_of) today, and its name, for the staff's pages.
templates.env.globals["course_state"] = lambda course: service.state_of(course, clock.today())
templates.env.globals["course_state_names"] = STATE_NAMES
templates.env.globals["mode_names"] = MODE_NAMES
api = APIRouter(tags=["courses"])


@router.get("/courses/{code}", name="courses:public")
def public(request: Request, session: SessionDep, course: PublicCourse):
    return public_page(request, session, course)


@router.get("/staff", name="courses:staff")
def staff_home(request: Request, session: SessionDep, university: StaffUniversity):
    today = clock.today()
    courses = service.list_for_university(session, id_of(university))
    return render(
        request,
        "courses/staff.html",
        {
            "university": university,
            "courses": [(c, service.state_of(c, today)) for c in courses],
            "state_names": STATE_NAMES,
        },
    )


@router.get("/staff/courses/new", name="courses:new")
def new_course(request: Request, session: SessionDep, university: StaffUniversity):
    values = {"city_code": university.city_code, "mode": "on_site"}
    return form_page(request, session, values, {})


@router.post("/staff/courses/new", name="courses:create")
def create_course(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    university: StaffUniversity,
    form: FormDep,
):
    return submit(
        request,
        session,
        form,
        CourseForm,
        lambda data: service.create(
            session, university=university, data=data, actor=user.actor, today=clock.today()
        ),
        again=lambda values, errors: form_page(request, session, values, errors, status_code=422),
        done=lambda course: str(request.url_for("courses:staff_detail", code=course.code)),
        flash=N_("Course created"),
    )


@router.get("/staff/courses/{code}/edit", name="courses:edit")
def edit_course(request: Request, session: SessionDep, course: OwnCourse):
    return form_page(request, session, values_of(course), {}, course=course)


@router.post("/staff/courses/{code}/edit", name="courses:update")
def update_course(
    request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep
):
    """The whole course again; dates and capacity are checked against its enrollments."""
    return submit(
        request,
        session,
        form,
        CourseEditForm,
        lambda data: service.update(session, course, data, actor=user.actor, today=clock.today()),
        again=lambda values, errors: form_page(
            request, session, values, errors, course=course, status_code=422
        ),
        done=str(request.url_for("courses:staff_detail", code=course.code)),
        flash=N_("Course saved"),
    )


@router.post("/staff/courses/{code}/close", name="courses:close")
def close_enrollment(
    request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep
):
    service.set_open(session, course, False, actor=user.actor)
    session.commit()
    return redirect(request, _back(request, course), flash=N_("Enrollment closed"))


@router.post("/staff/courses/{code}/reopen", name="courses:reopen")
def reopen_enrollment(
    request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep
):
    service.set_open(session, course, True, actor=user.actor)
    session.commit()
    enrolling = service.is_enrolling(course, clock.today())
    flash = (
        N_("Enrollment reopened")
        if enrolling
        else N_("Enrollment reopened, but its dates or draft state keep it closed: edit the course")
    )
    return redirect(request, _back(request, course), flash=flash)


def _back(request: Request, course: Course) -> str:
    # The list or the course page, whichever the button was on.
    back = safe_path(str(request.query_params.get("back", "")))
    return back or str(request.url_for("courses:staff_detail", code=course.code))


@router.get("/staff/courses/{code}", name="courses:staff_detail")
def staff_course(request: Request, session: SessionDep, course: OwnCourse):
    """Each trainee's state; ?completed_from=&completed_to=&state= narrow the list (a date
    that is not one is shown beside its field, 422)."""
    return staff_page(request, session, course, request.query_params)


@router.get("/staff/courses/{code}/certificate", name="courses:certificate")
def certificate_text(request: Request, course: OwnCourse):
    values = CourseCertificateText.model_validate(course, from_attributes=True).model_dump()
    return _certificate_page(request, course, {k: v or "" for k, v in values.items()}, {})


@router.post("/staff/courses/{code}/certificate", name="courses:certificate_post")
def save_certificate_text(
    request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep
):
    return submit(
        request,
        session,
        form,
        CourseCertificateText,
        lambda data: service.update_certificate_text(session, course, data, actor=user.actor),
        again=lambda values, errors: _certificate_page(request, course, values, errors, 422),
        done=str(request.url_for("courses:staff_detail", code=course.code)),
        flash=N_("Certificate text saved"),
    )


def _certificate_page(request: Request, course, values: dict, errors: dict, status_code=200):
    context = {"course": course, "values": values, "errors": errors}
    return render(request, "courses/certificate.html", context, status_code=status_code)


@api.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CoursePublic)
def create_course_api(
    session: SessionDep, principal: ApiUniversity, university: ApiOwnUniversity, data: CourseCreate
):
    """A new course. One the catalog would not show (a draft, or an enrollment window already
    past) is refused (422, field confirm_hidden) unless the body says "confirm_hidden": true."""
    course = service.create(
        session, university=university, data=data, actor=principal.actor, today=clock.today()
    )
    session.commit()
    return _public(session, course, university)


@api.put("/courses/{code}", response_model=CoursePublic)
def update_course_api(
    session: SessionDep,
    principal: ApiUniversity,
    university: ApiOwnUniversity,
    course: ApiOwnCourse,
    data: CourseUpdate,
):
    """The whole course again, as on creation (the code cannot change). With trainees
    enrolled the capacity never falls below the seats taken (422, field capacity); hiding the
    course from the catalog needs "confirm_hidden": true."""
    service.update(session, course, data, actor=principal.actor, today=clock.today())
    session.commit()
    return _public(session, course, university)


def _public(session, course: Course, university) -> CoursePublic:
    city = service.city_of(session, course)
    return CoursePublic.of(course, university.code, university.name, city.name)
