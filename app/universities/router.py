from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response

from app.admin.router import shown_again
from app.auth.deps import AdminUser, ApiAdmin, load_user, require_user
from app.auth.models import User
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_
from app.universities import seals, service
from app.universities.deps import ManagedUniversity
from app.universities.models import (
    CertificateSettings,
    University,
    UniversityCreate,
    UniversityPublic,
)
from app.web import FormDep, render, submit

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


@router.get("/universities/{code}/certificate", name="universities:certificate")
def certificate_settings(request: Request, university: ManagedUniversity):
    values = CertificateSettings.model_validate(university, from_attributes=True).model_dump()
    return _settings_page(request, university, {k: v or "" for k, v in values.items()}, {})


@router.post("/universities/{code}/certificate", name="universities:certificate_post")
def save_certificate_settings(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(require_user)],
    university: ManagedUniversity,
    form: FormDep,
):
    settings = request.app.state.settings
    upload = form.get("seal")
    # One byte past the seal's limit is enough to refuse it; the rest is never read.
    seal = upload.file.read(seals.MAX_BYTES + 1) if upload and not isinstance(upload, str) else None
    return submit(
        request,
        session,
        form,
        CertificateSettings,
        lambda data: service.update_certificate_settings(
            session,
            university,
            data,
            seal=seal or None,
            data_dir=settings.data_dir,
            actor=user.actor,
        ),
        again=lambda values, errors: _settings_page(request, university, values, errors, 422),
        done=str(request.url_for("universities:certificate", code=university.code)),
        flash=N_("Certificate settings saved"),
    )


@router.get("/universities/{code}/seal.png", name="universities:seal")
def seal_image(request: Request, university: ManagedUniversity):
    png = service.seal_png(university, request.app.state.settings.data_dir)
    if png is None:
        raise NotFound(N_("No seal has been uploaded yet"))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-cache"})


def _settings_page(
    request: Request, university: University, values: dict, errors: dict, status_code: int = 200
):
    context = {"university": university, "values": values, "errors": errors}
    return render(request, "universities/certificate.html", context, status_code=status_code)
