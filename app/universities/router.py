import re

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field, field_validator

from app.audit import service as audit
from app.auth import service as auth
from app.auth.deps import AdminUser, ApiAdmin, load_user
from app.db import SessionDep
from app.errors import Conflict, Invalid
from app.fields import IdNumber, PersonName, RowId
from app.goals import service as goals
from app.i18n import N_, gettext
from app.trainees import service as trainees
from app.universities import service
from app.universities.models import UniversityCreate, UniversityPublic
from app.web import FormDep, form_values, redirect, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["universities"])

UNIVERSITY_FIELDS = ["code", "name", "city_code"]
STAFF_FIELDS = ["email", "password", "university_id"]


class StaffCreate(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(min_length=10, max_length=200)
    university_id: RowId

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value.strip()):
            raise ValueError(N_("Enter a valid email address"))
        return value.strip()


def _dashboard(request, session, *, status_code=200, **forms):
    cities = service.cities(session)
    context = {"universities": service.list_all(session), "cities": cities,
               "city_by_code": {c.code: c for c in cities},
               "accounts": auth.list_accounts(session), "city_progress": goals.by_city(session),
               "goals": goals.count_all(session, request.app.state.settings),
               "university_form": {"values": {}, "errors": {}},
               "staff_form": {"values": {}, "errors": {}},
               "name_form": {"values": {}, "errors": {}}, **forms}
    return render(request, "universities/admin.html", context, status_code=status_code)


@router.get("/admin", name="universities:admin")
def admin_home(request: Request, session: SessionDep, user: AdminUser):
    return _dashboard(request, session)


@router.post("/admin/universities", name="universities:create")
def create_university(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    values = form_values(form, UNIVERSITY_FIELDS)
    data, errors = validate_form(UniversityCreate, form, UNIVERSITY_FIELDS)
    if data is not None:
        try:
            university = service.create(session, data)
            audit.record(session, f"user:{user.id}", "university.create", "university", university.id)
            session.commit()
            return redirect("/admin", flash=N_("University added"))
        except Invalid as exc:
            errors = exc.field_messages()
        except Conflict as exc:
            errors = {"code": gettext(exc.message)}
        session.rollback()
    return _dashboard(request, session, status_code=422,
                      university_form={"values": values, "errors": errors})


@router.post("/admin/users", name="universities:create_staff")
def create_staff(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    values = form_values(form, STAFF_FIELDS)
    data, errors = validate_form(StaffCreate, form, STAFF_FIELDS)
    if data is not None:
        try:
            staff = auth.create_user(session, email=data.email, password=data.password,
                                     role="staff", university_id=data.university_id)
            audit.record(session, f"user:{user.id}", "user.create", "user", staff.id)
            session.commit()
            return redirect("/admin", flash=N_("Staff account created"))
        except Invalid as exc:
            errors = exc.field_messages()
        except Conflict as exc:
            errors = {"email": gettext(exc.message)}
        session.rollback()
    values.pop("password")
    return _dashboard(request, session, status_code=422, staff_form={"values": values, "errors": errors})


class NameCorrection(BaseModel):
    id_number: IdNumber
    name: PersonName


@router.post("/admin/trainees/name", name="universities:correct_name")
def correct_name(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    values = form_values(form, ["name"])  # the ID number is never shown back
    data, errors = validate_form(NameCorrection, form, ["id_number", "name"])
    if data is not None:
        try:
            trainee = trainees.correct_name(session, id_number=data.id_number, name=data.name)
            audit.record(session, f"user:{user.id}", "trainee.correct_name", "trainee", trainee.id)
            session.commit()
            return redirect("/admin", flash=N_("Name corrected"))
        except Invalid as exc:
            errors = exc.field_messages()
    return _dashboard(request, session, status_code=422, name_form={"values": values, "errors": errors})


@api.post("/universities", status_code=status.HTTP_201_CREATED, response_model=UniversityPublic)
def create_university_api(session: SessionDep, principal: ApiAdmin, data: UniversityCreate):
    university = service.create(session, data)
    audit.record(session, principal.actor, "university.create", "university", university.id)
    session.commit()
    return university
