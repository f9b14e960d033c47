"""Share copies: the trainee makes and revokes them; anyone with the link sees the share's page
and its stamped PDF while it verifies, and is told plainly when it no longer does."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import clock
from app.certificates import share_copy, verification
from app.db import SessionDep
from app.errors import AppError, NotFound
from app.i18n import N_
from app.me import records, shares
from app.me.deps import CurrentTrainee
from app.me.models import SHARE_DAYS, ShareCreate
from app.me.pages import RowNumber, page
from app.trainees.validators import mask_name
from app.web import FormDep, form_values, redirect, validate_form

router = APIRouter()
TOKEN_LENGTH = 64  # longer is never one of ours


def _form(request: Request, cert, values: dict, errors: dict, status_code: int = 200):
    context = {"cert": cert, "values": values, "errors": errors, "days": SHARE_DAYS}
    return page(request, "me/share_form.html", context, status_code=status_code)


@router.get("/me/certificates/{serial}/share", name="me:share_form")
def share_form(request: Request, session: SessionDep, signed: CurrentTrainee, serial: str):
    cert = records.certificate_of(session, signed.trainee.id or 0, serial)
    return _form(request, cert, {}, {})


@router.post("/me/certificates/{serial}/share", name="me:share")
def make_share(
    request: Request, session: SessionDep, signed: CurrentTrainee, serial: str, form: FormDep
):
    cert = records.certificate_of(session, signed.trainee.id or 0, serial)
    values = form_values(form, ["purpose", "valid_until"])
    data, errors = validate_form(ShareCreate, form, ["purpose", "valid_until"])
    if data is None:
        return _form(request, cert, values, errors, status_code=422)
    try:
        share, token = shares.create(
            session, cert, trainee_id=signed.trainee.id or 0, data=data, today=clock.today()
        )
    except AppError as exc:
        session.rollback()
        fields = getattr(exc, "field_messages", None)
        errors = fields() if fields else {"__all__": exc.message}
        return _form(request, cert, values, errors, status_code=exc.status)
    session.commit()
    url = shares.share_url(request.app.state.settings.public_url, token)
    context = {"cert": cert, "share": share, "url": url, "token": token}
    # The link is on this one answer and never again (only its digest is kept).
    return page(request, "me/share_made.html", context, status_code=201)


@router.post("/me/shares/{share_id}/revoke", name="me:share_revoke")
def revoke_share(
    request: Request,
    session: SessionDep,
    signed: CurrentTrainee,
    share_id: RowNumber,
    form: FormDep,
):
    shares.revoke(session, trainee_id=signed.trainee.id or 0, share_id=share_id)
    session.commit()
    return redirect(
        request, "/me", flash=N_("The share copy is revoked: its link no longer verifies")
    )


def _found(session, token: str):
    if len(token) > TOKEN_LENGTH:
        raise NotFound(N_("No share copy has this address"))
    return shares.by_token(session, token)


def _share_page(request: Request, session, token: str):
    share, cert = _found(session, token)
    state = shares.state_of(share, cert, clock.today())
    if state == shares.VALID and not verification.verify_signature(
        cert, verification.published_keys(session)
    ):
        state = shares.UNCHECKED
    context = {
        "share": share,
        "cert": cert,
        "state": state,
        "holder": mask_name(cert.holder_name),
        "token": token,
    }
    status = 200 if state == shares.VALID else 410
    return page(request, "me/share.html", context, status_code=status), state, share, cert


@router.get("/share/{token}", name="shares:show")
def show_share(request: Request, session: SessionDep, token: str):
    return _share_page(request, session, token)[0]


@router.get("/share/{token}/pdf", name="shares:pdf")
def share_pdf(request: Request, session: SessionDep, token: str):
    response, state, share, cert = _share_page(request, session, token)
    if state != shares.VALID:
        return response  # the page saying why it no longer verifies, 410
    settings = request.app.state.settings
    content = share_copy.share_pdf(
        session,
        cert,
        share_url=shares.share_url(settings.public_url, token),
        purpose=share.purpose,
        valid_until=share.valid_until,
        public_url=settings.public_url,
        data_dir=settings.data_dir,
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{cert.serial}-share.pdf"',
            "Cache-Control": "no-store",
        },
    )
