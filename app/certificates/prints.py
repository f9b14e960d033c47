"""What a clerk does with a course's certificates in bulk: the preview before issuing, print
runs of the course or of a selection (a job each), the print log and the print files, as pages
and through the API. Another university's course, job or file is answered like a missing one."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field
from sqlmodel import Session

from app.auth.deps import ApiPrincipal, StaffUser, load_user
from app.certificates import printing, roster
from app.courses import pages as course_pages
from app.courses.deps import ApiOwnCourse, OwnCourse
from app.courses.models import Course
from app.db import SessionDep, id_of
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.jobs import queue
from app.jobs import service as jobs
from app.jobs.deps import ApiOwnJob, OwnJob
from app.jobs.models import Job
from app.web import FormDep, redirect, render

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["certificates"])
SERIALS_MAX = 5000  # a print run the API is sent serial by serial; the province's reprint


@router.get("/staff/courses/{code}/certificates/preview", name="certificates:preview")
def preview(request: Request, session: SessionDep, course: OwnCourse):
    """Who will get a certificate and who is refused, before the clerk confirms."""
    return render(
        request,
        "certificates/preview.html",
        {"course": course, "preview": roster.issue_preview(session, course)},
    )


@router.post("/staff/courses/{code}/prints", name="certificates:print")
def print_run(
    request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep
):
    """Print the ticked certificates (scope=ticked) or every valid one the filters show
    (scope=shown); the course page again, 422, when nothing can be printed."""
    ticked = [v for v in form.getlist("serial") if isinstance(v, str)]
    filters, _values, errors = course_pages.read_filters(form)
    if errors:
        return course_pages.staff_page(request, session, course, form, ticked=ticked)
    shown = form.get("scope") == "shown"
    try:
        selection = _shown(session, course, filters) if shown else _ticked(session, course, ticked)
        scope = _scope(filters) if shown else {"scope": "ticked"}
        job = printing.start(session, course, selection, actor=user.actor, scope=scope)
    except Invalid as exc:
        session.rollback()
        return course_pages.staff_page(
            request, session, course, form, errors=exc.field_messages(), ticked=ticked
        )
    session.commit()
    queue.of(request.app).submit(id_of(job))
    url = str(request.url_for("jobs:show", job_id=id_of(job)))
    n = len(selection.certificates)
    if selection.skipped:
        message = N_(
            "Printing %(n)s certificates. Not printed, as revoked or replaced: %(serials)s"
        )
        return redirect(request, url, flash=message, n=n, **printing.skipped_params(selection))
    return redirect(request, url, flash=N_("Printing %(n)s certificates into one PDF"), n=n)


def _ticked(session: Session, course: Course, ticked: list[str]) -> printing.Selection:
    if not ticked:
        message = N_("Tick the certificates to print first, or print every valid one shown")
        raise Invalid([(printing.FIELD, message)])
    return printing.select_certificates(session, course, serials_given=ticked)


def _shown(session: Session, course: Course, filters: roster.RosterFilter) -> printing.Selection:
    """Every valid certificate the list shows: none unless it shows certified trainees."""
    if filters.state not in (None, roster.CERTIFIED):
        return printing.Selection([], [])
    found = printing.select_certificates(
        session, course, completed_from=filters.completed_from, completed_to=filters.completed_to
    )
    return printing.Selection(found.certificates, [])  # the revoked ones were not asked for


def _scope(filters: roster.RosterFilter) -> dict:
    dates = {"completed_from": filters.completed_from, "completed_to": filters.completed_to}
    return {"scope": "shown", **{k: v.isoformat() for k, v in dates.items() if v}}


@router.get("/staff/prints", name="certificates:print_log")
def print_log(request: Request, session: SessionDep, user: StaffUser):
    """The university's print runs: who printed what and when, with the files."""
    runs = printing.print_log(session, university_id=user.university_id)
    return render(request, "certificates/prints.html", printing.log_view(session, runs))


@router.get("/staff/prints/{job_id}.pdf", name="certificates:print_file")
def print_file(request: Request, job: OwnJob):
    return _file(request, job)


def _file(request: Request, job: Job) -> FileResponse:
    if job.kind != printing.KIND:
        raise NotFound(N_("No print run has this number"))
    path = printing.file_path(request.app.state.settings.data_dir, job)
    if path is None and job.state in jobs.UNFINISHED:
        raise Conflict(N_("This print run is not finished yet"))
    if path is None:
        raise NotFound(N_("This print run made no file: nothing in it could be printed"))
    code = jobs.params_of(job).get("course_code", "certificates")
    return FileResponse(  # streamed from the disk, never read into memory whole
        path,
        media_type="application/pdf",
        filename=f"{code}-print-{job.id}.pdf",
        headers={"Cache-Control": "private, no-store"},
    )


class PrintCreate(roster.CompletedRange):
    """What to print: the certificates by serial, else every valid certificate of the course
    completed within the dates (both optional: the whole course)."""

    serials: list[str] | None = Field(default=None, max_length=SERIALS_MAX)


@api.post("/courses/{code}/prints", status_code=202)
def print_api(
    request: Request,
    session: SessionDep,
    principal: ApiPrincipal,
    course: ApiOwnCourse,
    data: PrintCreate | None = None,
):
    """Queue a print run: one merged PDF of the course's valid certificates (or of the serials
    given), a job. 202 with the job's addresses (and a Location header); once status_url says
    finished, file_url gives the PDF. Revoked or replaced certificates are left out and listed
    in skipped; 422 when nothing can be printed or a serial is not the course's."""
    data = data or PrintCreate()
    try:
        selection = printing.select_certificates(
            session,
            course,
            serials_given=data.serials,
            completed_from=data.completed_from,
            completed_to=data.completed_to,
        )
        scope: dict[str, Any] = {"scope": "api"}
        if data.serials is None:
            scope |= {k: v.isoformat() for k, v in _dates(data).items() if v}
        job = printing.start(session, course, selection, actor=principal.actor, scope=scope)
    except Invalid as exc:
        raise Invalid([("serials", m) for _f, m in exc.errors], params=exc.params) from exc
    session.commit()
    queue.of(request.app).submit(id_of(job))
    status_url = request.url_for("job_api", job_id=id_of(job)).path
    return JSONResponse(
        {
            "job_id": job.id,
            "certificates": len(selection.certificates),
            "skipped": [c.serial for c in selection.skipped],
            "url": request.url_for("jobs:show", job_id=id_of(job)).path,
            "status_url": status_url,
            "file_url": request.url_for("print_file_api", job_id=id_of(job)).path,
        },
        status_code=202,
        headers={"Location": status_url},
    )


def _dates(data: PrintCreate) -> dict[str, date | None]:
    return {"completed_from": data.completed_from, "completed_to": data.completed_to}


@api.get("/prints/{job_id}/pdf", name="print_file_api")
def print_file_api(request: Request, job: ApiOwnJob):
    """The print run's PDF once it is finished; 409 while it runs, 404 for another
    university's job or a run that made no file."""
    return _file(request, job)
