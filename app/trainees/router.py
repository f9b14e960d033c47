from fastapi import APIRouter, Depends, Request

from app.admin.router import shown_again
from app.auth.deps import AdminUser, load_user
from app.db import SessionDep
from app.i18n import N_
from app.trainees import service
from app.trainees.models import NameCorrection
from app.web import FormDep, submit

router = APIRouter(dependencies=[Depends(load_user)])


@router.post("/admin/trainees/name", name="trainees:correct_name")
def correct_name(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    return submit(
        request,
        session,
        form,
        NameCorrection,
        lambda data: service.correct_name(
            session, id_number=data.id_number, name=data.name, actor=user.actor
        ),
        again=shown_again(request, session, "name_form"),
        done="/admin",
        flash=N_("Name corrected"),
    )
