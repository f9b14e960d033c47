from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response
from jinja2 import pass_context

from app.admin.router import shown_again
from app.audit import service as audit
from app.auth.deps import SESSION_COOKIE, AdminUser, ApiAdmin, load_user, require_user
from app.auth.models import User
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_
from app.universities import progress, seals, service, viewing
from app.universities.deps import ManagedUniversity
from app.universities.models import (
    CertificateSettings,
    University,
    UniversityCreate,
    UniversityPublic,
)
from app.web import FormDep, delete_cookie, redirect, render, set_cookie, submit, templates

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["universities"])
CurrentUser = Annotated[User, Depends(require_user)]


@pass_context
def _viewing(context) -> University | None:
    return viewing.viewing(context["request"])


# Every page asks it: the read-only banner (base.html) and the staff pages' forms.
templates.env.globals["viewing_university"] = _viewing


@router.get("/admin/universities", name="universities:progress")
def progress_table(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    sort: str | None = None,
    dir: str | None = None,
):
    """Every university's progress; ?sort=<column>&dir=asc|desc orders it (plain links)."""
    by = progress.order(sort, dir)
    context = {
        "rows": progress.sort(progress.rows(session), by),
        "order": by,
        "text_columns": progress.TEXT_COLUMNS,
        "figure_columns": progress.FIGURE_COLUMNS,
        "figure_keys": progress.FIGURE_KEYS,
    }
    return render(request, "admin/universities.html", context)


@router.post("/admin/universities/{code}/view", name="universities:view")
def start_view(request: Request, session: SessionDep, user: AdminUser, form: FormDep, code: str):
    """The university's staff pages, as its staff see them, until the view is ended."""
    university = service.get_by_code(session, code)
    audit.record(
        session, user.actor, "university.view", "university", university.id, code=university.code
    )
    session.commit()
    response = redirect(
        request,
        str(request.url_for("courses:staff")),
        flash=N_("You are viewing %(university)s read-only"),
        university=university.name,
    )
    value = viewing.cookie_value(request, request.cookies[SESSION_COOKIE], university)
    set_cookie(response, viewing.COOKIE, value)
    return response


@router.post("/admin/universities/end-view", name="universities:end_view")
def end_view(request: Request, session: SessionDep, user: CurrentUser, form: FormDep):
    university, admin = viewing.viewing(request), viewing.viewer(request)
    done = N_("The read-only view has ended")
    if university is not None and admin is not None:
        audit.record(session, admin.actor, "university.view_end", "university", university.id)
        session.commit()
        done = N_("The read-only view of %(university)s has ended")
    back = "universities:progress" if admin is not None or user.is_admin else "goals:home"
    response = redirect(
        request,
        str(request.url_for(back)),
        flash=done,
        university=university.name if university else "",
    )
    delete_cookie(response, viewing.COOKIE)
    return response


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
