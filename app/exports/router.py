"""The exports page (administrators: /admin/exports; a university's staff: /staff/exports),
the finished file's download, and their API twins. An export runs as a job: the form answers
with the job's page, whose link gives the file once it is written."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from app import i18n
from app.auth.deps import AdminUser, ApiPrincipal, StaffUser, load_user, require_user
from app.auth.models import User
from app.courses.models import Course
from app.db import SessionDep, id_of
from app.errors import Conflict, Invalid, NotFound
from app.exports import files, service
from app.exports.background import LABELS
from app.exports.models import KINDS, ExportCreate
from app.i18n import N_
from app.jobs import pages as job_pages
from app.jobs import queue
from app.jobs import service as jobs
from app.jobs.deps import ApiOwnJob, OwnJob
from app.jobs.models import Job
from app.security import keys_of
from app.web import FormDep, form_values, redirect, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["exports"])
FIELDS = list(ExportCreate.model_fields)
COURSE_CHOICES = 500


def _asker(user: User) -> service.Asker:
    return service.Asker(user.actor, user.university_id, user.is_admin)


def _page(request: Request, session: Session, user: User, values=None, errors=None, status=200):
    start, end = service.default_range()
    courses = select(Course.code).order_by(col(Course.code)).limit(COURSE_CHOICES)
    if not user.is_admin:
        courses = courses.where(Course.university_id == user.university_id)
    found = service.recent(session, university_id=user.university_id, admin=user.is_admin)
    context = {
        "values": values
        or {"kind": "completions", "format": "xlsx", "date_from": start, "date_to": end},
        "errors": errors or {},
        "action": "exports:admin_start" if user.is_admin else "exports:staff_start",
        "kinds": [(k, LABELS[k]) for k in KINDS],
        "course_codes": list(session.exec(courses)),
        "exports": [(job, jobs.params_of(job)) for job in found],
        "labels": {service.KINDS[k]: label for k, label in LABELS.items()},
        "states": job_pages.STATES,
    }
    return render(request, "exports/form.html", context, status_code=status)


def _start(request: Request, session: Session, user: User, form) -> object:
    data, errors = validate_form(ExportCreate, form, FIELDS)
    values = form_values(form, FIELDS)
    if data is None:
        return _page(request, session, user, values, errors, 422)
    try:
        job = service.start(session, data, _asker(user), language=i18n.current_language())
    except Invalid as exc:
        session.rollback()
        return _page(request, session, user, values, exc.field_messages(), 422)
    session.commit()
    queue.of(request.app).submit(id_of(job))
    url = str(request.url_for("jobs:show", job_id=id_of(job)))
    return redirect(request, url, flash=N_("Exporting: the file is offered here once it is ready"))


@router.get("/admin/exports", name="exports:admin")
def admin_page(request: Request, session: SessionDep, user: AdminUser):
    return _page(request, session, user)


@router.post("/admin/exports", name="exports:admin_start")
def admin_start(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    return _start(request, session, user, form)


@router.get("/staff/exports", name="exports:staff")
def staff_page(request: Request, session: SessionDep, user: StaffUser):
    return _page(request, session, user)


@router.post("/staff/exports", name="exports:staff_start")
def staff_start(request: Request, session: SessionDep, user: StaffUser, form: FormDep):
    return _start(request, session, user, form)


def _file(request: Request, session: Session, job: Job, actor: str):
    if not service.is_export(job):
        raise NotFound(N_("No export has this number"))
    path = service.kept_file(request.app.state.settings.data_dir, job)
    if path is None and job.state in jobs.UNFINISHED:
        raise Conflict(N_("This export is not finished yet"))
    if path is None:
        raise NotFound(N_("This export made no file"))
    content = keys_of(session).decrypt_bytes(path.read_bytes())
    service.downloaded(session, job, actor=actor)
    session.commit()
    filename, ascii_name = service.names(session, job)
    fmt = jobs.params_of(job).get("format", "xlsx")
    return files.download(content, files.TYPES[fmt], filename, ascii_name)


@router.get("/exports/{job_id}/file", name="exports:file")
def export_file(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(require_user)],
    job: OwnJob,
):
    return _file(request, session, job, user.actor)


@api.post("/exports", status_code=202)
def create_api(request: Request, session: SessionDep, principal: ApiPrincipal, data: ExportCreate):
    """Queue an export: the goal summary or the completions and certificates of a date range
    (both ends included, China dates), or a course's enrollments (course_code), as xlsx or
    csv. ID numbers are masked unless full_ids (audited). A university's token exports that
    university's part. 202 with the job's addresses (and a Location header); once status_url
    says finished, file_url gives the file. 422 with field errors for bad dates, an end
    before the start, a range with no completion, or a course that is not the caller's."""
    asker = service.Asker(principal.actor, principal.university_id, principal.is_admin)
    job = service.start(session, data, asker, language=i18n.current_language())
    session.commit()
    queue.of(request.app).submit(id_of(job))
    status_url = request.url_for("job_api", job_id=id_of(job)).path
    return JSONResponse(
        {
            "job_id": job.id,
            "rows": jobs.params_of(job)["rows"],
            "url": request.url_for("jobs:show", job_id=id_of(job)).path,
            "status_url": status_url,
            "file_url": request.url_for("export_file_api", job_id=id_of(job)).path,
        },
        status_code=202,
        headers={"Location": status_url},
    )


@api.get(
    "/exports/{job_id}/file",
    name="export_file_api",
    responses={
        404: {"description": "No export of the caller's has this number, or it made no file"},
        409: {"description": "The export is not finished yet"},
    },
)
def export_file_api(request: Request, session: SessionDep, principal: ApiPrincipal, job: ApiOwnJob):
    """The export's file once its job is finished (XLSX or CSV as asked)."""
    return _file(request, session, job, principal.actor)
