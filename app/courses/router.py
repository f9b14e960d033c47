
from fastapi import APIRouter, Depends, Request, status
from sqlalchemy.exc import IntegrityError

from app import clock
from app.audit import service as audit
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.certificates import service as certificates
from app.cities.models import City
from app.courses import service
from app.courses.deps import OwnCourse
from app.courses.models import CourseCreate, CoursePublic
from app.db import SessionDep
from app.enrollments import service as enrollments
from app.errors import Conflict
from app.i18n import N_, gettext
from app.universities.models import University
from app.web import FormDep, form_values, redirect, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["courses"])

COURSE_FIELDS = ["code", "title", "hours", "capacity", "starts_on", "ends_on", "enroll_closes_on"]


@router.get("/courses", name="courses:list")
def catalog(request: Request, session: SessionDep):
    return render(request, "courses/list.html", {"catalog": service.list_open(session, clock.today())})


@router.get("/staff", name="courses:staff")
def staff_home(request: Request, session: SessionDep, user: StaffUser):
    university = session.get(University, user.university_id)
    return render(request, "courses/staff.html", {
        "university": university, "courses": service.list_for_university(session, university.id)})


@router.get("/staff/courses/new", name="courses:new")
def new_course(request: Request, user: StaffUser):
    return render(request, "courses/form.html", {"values": {}, "errors": {}})


@router.post("/staff/courses/new", name="courses:create")
def create_course(request: Request, session: SessionDep, user: StaffUser, form: FormDep):
    data, errors = validate_form(CourseCreate, form, COURSE_FIELDS)
    if data is not None:
        university = session.get(University, user.university_id)
        try:
            course = service.create(session, university=university, data=data)
            audit.record(session, f"user:{user.id}", "course.create", "course", course.id)
            session.commit()
            return redirect(str(request.url_for("courses:staff_detail", code=course.code)),
                            flash=N_("Course created"))
        except (Conflict, IntegrityError):
            session.rollback()
            errors = {"code": gettext("A course with this code already exists")}
    return render(request, "courses/form.html",
                  {"values": form_values(form, COURSE_FIELDS), "errors": errors}, status_code=422)


@router.get("/staff/courses/{code}", name="courses:staff_detail")
def staff_course(request: Request, session: SessionDep, course: OwnCourse):
    return render(request, "courses/staff_detail.html", {
        "course": course, "enrollments": enrollments.list_for_course(session, course.id),
        "certificates": certificates.list_for_course(session, course.id)})


@api.get("/courses", response_model=list[CoursePublic])
def list_courses(session: SessionDep):
    return [CoursePublic(**c.model_dump(), university_code=u.code, university_name=u.name,
                         city=city.name, seats_left=c.seats_left)
            for c, u, city in service.list_open(session, clock.today())]


@api.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CoursePublic)
def create_course_api(session: SessionDep, principal: ApiUniversity, data: CourseCreate):
    university = session.get(University, principal.university_id)
    course = service.create(session, university=university, data=data)
    audit.record(session, principal.actor, "course.create", "course", course.id)
    session.commit()
    city = session.get(City, university.city_code)
    return CoursePublic(**course.model_dump(), university_code=university.code,
                        university_name=university.name, city=city.name, seats_left=course.seats_left)
