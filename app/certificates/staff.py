"""One certificate for its university's staff (and administrators): its record and history,
revoke (with a reason) and reissue, as a page and through the API. Another university's
certificate is answered like a missing one."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response
from sqlmodel import Session

from app import clock
from app.auth.deps import ApiPrincipal, require_user
from app.auth.models import User
from app.certificates import revocation, verification
from app.certificates.deps import ApiOwnCertificate, StaffOwnCertificate
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.db import SessionDep
from app.i18n import N_
from app.trainees.models import Trainee
from app.trainees.validators import mask_name
from app.web import FormDep, render, submit

router = APIRouter()
api = APIRouter(tags=["certificates"])
CurrentUser = Annotated[User, Depends(require_user)]


@router.get("/staff/certificates/{serial}", name="certificates:staff_detail")
def detail(request: Request, session: SessionDep, cert: StaffOwnCertificate):
    return _page(request, session, cert)


@router.post("/staff/certificates/{serial}/revoke", name="certificates:revoke")
def revoke(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    cert: StaffOwnCertificate,
    form: FormDep,
):
    return submit(
        request,
        session,
        form,
        revocation.RevocationCreate,
        lambda data: revocation.revoke(session, cert, reason=data.reason, actor=user.actor),
        again=lambda values, errors: _page(request, session, cert, values, errors),
        done=str(request.url_for("certificates:staff_detail", serial=cert.serial)),
        flash=N_("Certificate revoked: the verification page now says so"),
    )


@router.post("/staff/certificates/{serial}/reissue", name="certificates:reissue")
def reissue(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    cert: StaffOwnCertificate,
    form: FormDep,
):
    return submit(
        request,
        session,
        form,
        revocation.ReissueCreate,
        lambda _data: _reissue(request, session, cert, user.actor),
        again=lambda values, errors: _page(request, session, cert, values, errors),
        done=lambda new: str(request.url_for("certificates:staff_detail", serial=new.serial)),
        flash=N_("Certificate reissued: this is the new one, and the old one now names it"),
    )


def _reissue(request: Request, session: Session, cert: Certificate, actor: str) -> Certificate:
    settings = request.app.state.settings
    return revocation.reissue(
        session,
        cert,
        actor=actor,
        public_url=settings.public_url,
        data_dir=settings.data_dir,
        today=clock.today(),
    )


def _page(
    request: Request,
    session: Session,
    cert: Certificate,
    values: dict | None = None,
    errors: dict | None = None,
) -> Response:
    completion = session.get_one(Completion, cert.completion_id)
    trainee = session.get_one(Trainee, completion.trainee_id)
    errors = errors or {}
    return render(
        request,
        "certificates/staff_detail.html",
        {
            "cert": cert,
            "holder": mask_name(cert.holder_name),
            # After an administrator's name correction the record and the paper differ:
            # the page offers a reissue with the name the new certificate will print.
            "corrected_name": trainee.name if trainee.name != cert.holder_name else None,
            "replaced_by": verification.superseded_by(session, cert),
            "replaces": verification.supersedes(session, cert),
            "values": values or {},
            "errors": errors,
        },
        # A state that forbids the change (revoked already, say) is a conflict; a missing or
        # too long reason a field error.
        status_code=(409 if "__all__" in errors else 422) if errors else 200,
    )


@api.post("/certificates/{serial}/revoke")
def revoke_api(
    session: SessionDep,
    principal: ApiPrincipal,
    cert: ApiOwnCertificate,
    data: revocation.RevocationCreate,
):
    """Revoke an issued certificate with a reason (shown to whoever verifies it); its record
    and PDF stay. 409 if it was revoked or replaced already."""
    revocation.revoke(session, cert, reason=data.reason, actor=principal.actor)
    session.commit()
    return {
        "serial": cert.serial,
        "status": cert.status,
        "revoked_at": cert.revoked_at,
        "revoked_reason": cert.revoke_reason,
    }


@api.post("/certificates/{serial}/reissue", status_code=status.HTTP_201_CREATED)
def reissue_api(
    request: Request, session: SessionDep, principal: ApiPrincipal, cert: ApiOwnCertificate
):
    """Print a new certificate, with a new serial, from the records as they are now (after a
    name correction, say); the old one becomes superseded and names it. 409 if the old one
    was revoked or replaced already."""
    new = _reissue(request, session, cert, principal.actor)
    session.commit()
    return {
        "serial": new.serial,
        "status": new.status,
        "supersedes": cert.serial,
        "pdf": request.url_for("certificate_pdf", serial=new.serial).path,
    }
