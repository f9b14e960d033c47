from fastapi import APIRouter, Depends, Request, status

from app import clock
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.cities.models import City
from app.courses import service
from app.courses.deps import OwnCourse, PublicCourse
from app.courses.models import CourseCertificateText, CourseCreate, CoursePublic
from app.courses.pages import public_page, staff_page
from app.db import SessionDep, id_of
from app.i18n import N_
from app.universities.deps import ApiOwnUniversity, StaffUniversity
from app.web import FormDep, render, submit

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["courses"])


@router.get("/courses", name="courses:list")
def catalog(request: Request, session: SessionDep):
    return render(
        request, "courses/list.html", {"catalog": service.list_open(session, clock.today())}
    )


@router.get("/courses/{code}", name="courses:public")
def public(request: Request, session: SessionDep, course: PublicCourse):
    return public_page(request, session, course)


@router.get("/staff", name="courses:staff")
def staff_home(request: Request, session: SessionDep, university: StaffUniversity):
    return render(
        request,
        "courses/staff.html",
        {
            "university": university,
            "courses": service.list_for_university(session, id_of(university)),
        },
    )


@router.get("/staff/courses/new", name="courses:new")
def new_course(request: Request, user: StaffUser):
    return render(request, "courses/form.html", {"values": {}, "errors": {}})


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
        CourseCreate,
        lambda data: service.create(session, university=university, data=data, actor=user.actor),
        again=lambda values, errors: render(
            request, "courses/form.html", {"values": values, "errors": errors}, status_code=422
        ),
        done=lambda course: str(request.url_for("courses:staff_detail", code=course.code)),
        flash=N_("Course created"),
    )


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


@api.get("/courses", response_model=list[CoursePublic])
def list_courses(session: SessionDep):
    return [
        CoursePublic(
            **c.model_dump(),
            university_code=u.code,
            university_name=u.name,
            city=city.name,
            seats_left=c.seats_left,
        )
        for c, u, city in service.list_open(session, clock.today())
    ]


@api.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CoursePublic)
def create_course_api(
    session: SessionDep, principal: ApiUniversity, university: ApiOwnUniversity, data: CourseCreate
):
    course = service.create(session, university=university, data=data, actor=principal.actor)
    session.commit()
    city = session.get_one(City, university.city_code)
    return CoursePublic(
        **course.model_dump(),
        university_code=university.code,
        university_name=university.name,
        city=city.name,
        seats_left=course.seats_left,
    )
