"""Trainees' deletion requests, as a system administrator decides them."""

from fastapi import APIRouter, Request

from app.auth.deps import AdminUser
from app.db import SessionDep
from app.i18n import N_, gettext
from app.me import erasure
from app.me.models import Refusal
from app.me.pages import RowNumber, page, written
from app.trainees.validators import mask_name
from app.web import FormDep, form_values, redirect, validate_form

router = APIRouter()
CONFIRM = N_("Tick the box to confirm that you want this")


@router.get("/admin/deletion-requests", name="me:admin_requests")
def request_list(request: Request, session: SessionDep, user: AdminUser):
    rows = [(asked, mask_name(t.name), t.id_masked) for asked, t in erasure.pending(session)]
    return page(request, "me/admin_requests.html", {"rows": rows})


def _detail(request: Request, session, request_id: int, *, errors=None, values=None, status=200):
    asked, trainee = erasure.get(session, request_id)
    context = {
        "asked": asked,
        "holder": mask_name(trainee.name),
        "id_masked": trainee.id_masked,
        "holdings": erasure.holdings(session, trainee.id or 0),
        "errors": errors or {},
        "values": values or {},
    }
    return page(request, "me/admin_request.html", context, status_code=status)


@router.get("/admin/deletion-requests/{request_id}", name="me:admin_request")
def request_detail(request: Request, session: SessionDep, user: AdminUser, request_id: RowNumber):
    return _detail(request, session, request_id)


@router.post("/admin/deletion-requests/{request_id}/confirm", name="me:admin_confirm")
def confirm(
    request: Request, session: SessionDep, user: AdminUser, request_id: RowNumber, form: FormDep
):
    if form.get("confirm") != "yes":
        errors = {"confirm": gettext(CONFIRM)}
        return _detail(request, session, request_id, errors=errors, status=422)
    with written(request, session):
        asked, trainee = erasure.get(session, request_id)
        erasure.confirm(session, asked, trainee, actor=user.actor)
    return redirect(
        request,
        "/admin/deletion-requests",
        flash=N_("Erased: what the records must keep is kept, the rest is gone"),
    )


@router.post("/admin/deletion-requests/{request_id}/refuse", name="me:admin_refuse")
def refuse(
    request: Request, session: SessionDep, user: AdminUser, request_id: RowNumber, form: FormDep
):
    data, errors = validate_form(Refusal, form, ["reason"])
    if data is None:
        values = form_values(form, ["reason"])
        return _detail(request, session, request_id, errors=errors, values=values, status=422)
    asked, _ = erasure.get(session, request_id)
    erasure.refuse(session, asked, actor=user.actor, reason=data.reason)
    session.commit()
    return redirect(request, "/admin/deletion-requests", flash=N_("The request is refused"))
