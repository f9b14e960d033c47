from fastapi import APIRouter, Depends, Request, status

from app.admin.router import shown_again
from app.auth.deps import AdminUser, ApiAdmin, load_user
from app.db import SessionDep
from app.i18n import N_
from app.universities import service
from app.universities.models import UniversityCreate, UniversityPublic
from app.web import FormDep, submit

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["universities"])


@router.post("/admin/universities", name="universities:create")
def create_university(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    return submit(
        request,
        session,
        form,
        UniversityCreate,
        lambda data: service.create(session, data, actor=user.actor),
        again=shown_again(request, session, "university_form"),
        done="/admin",
        flash=N_("University added"),
    )


@api.post("/universities", status_code=status.HTTP_201_CREATED, response_model=UniversityPublic)
def create_university_api(session: SessionDep, principal: ApiAdmin, data: UniversityCreate):
    university = service.create(session, data, actor=principal.actor)
    session.commit()
    return university
