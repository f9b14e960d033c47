from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from sqlmodel import Session
from starlette import datastructures

from app import clock
from app.audit import service as audit
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.completions import background, report, service
from app.completions.deps import ApiOwnBatch, OwnBatch
from app.completions.models import (
    CompletionBatch,
    CompletionBatchPublic,
    CompletionPreviewPublic,
    ConvertedIdNumber,
    RowOutcome,
    RowProblem,
)
from app.db import SessionDep, id_of, utcnow
from app.errors import Conflict, Invalid, TooLarge
from app.exports import files
from app.i18n import N_, gettext
from app.jobs import queue
from app.universities.deps import ApiOwnUniversity, StaffUniversity
from app.universities.models import University
from app.web import FormDep, redirect, render

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["completions"])


def _read_capped(upload: datastructures.UploadFile, limit: int) -> bytes:
    # FastAPI's UploadFile (the API's) is Starlette's (a form's), with documentation added.
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            N_("The file is larger than the %(mb)s MB limit"), params={"mb": limit >> 20}
        )
    return data


@router.get("/staff/uploads", name="completions:upload")
def upload_page(request: Request, session: SessionDep, university: StaffUniversity):
    return render(
        request, "completions/upload.html", {**_history(session, university), "error": None}
    )


def _history(session: Session, university: University) -> dict:
    batches = service.recent_batches(session, university)
    return {"batches": batches, "uploaders": service.uploaders(session, batches)}


@router.post("/staff/uploads", name="completions:upload_post")
def upload(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    university: StaffUniversity,
    form: FormDep,
):
    """The file is read and every row classified into a preview; nothing is saved yet."""
    settings = request.app.state.settings
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return _upload_error(request, session, university, N_("Choose a CSV or XLSX file"))
    encoding = _encoding(form)
    if encoding == "":
        return _upload_error(request, session, university, N_("Choose an encoding from the list"))
    kind = str(form.get("kind") or "completions")
    if kind not in service.KINDS:
        return _upload_error(request, session, university, N_("Choose what the file holds"))
    upload = service.Upload(
        university=university,
        filename=file.filename,
        data=_read_capped(file, settings.max_upload_bytes),
        user_id=user.id,
        encoding=encoding,
        kind=kind,
    )
    format, rows = background.estimated_rows(upload.filename, upload.data)
    if rows > settings.upload_job_rows:
        batch = background.queue_preview(session, upload, format=format, data_dir=settings.data_dir)
        assert batch.job_id is not None
        return _to_job(request, session, batch.job_id)
    try:
        batch = service.preview(session, upload, data_dir=settings.data_dir, today=clock.today())
    except Invalid as exc:
        session.rollback()
        return _upload_error(request, session, university, exc.message, **exc.params)
    session.commit()
    return redirect(request, str(request.url_for("completions:result", batch_id=batch.id)))


ENCODINGS = ("utf-8", "gb18030")


def _encoding(form) -> str | None:
    """The encoding the clerk chose, None to detect it ("" for a value not offered)."""
    encoding = str(form.get("encoding") or "") or None
    return encoding if encoding in (None, *ENCODINGS) else ""


def _upload_error(
    request: Request, session: Session, university: University, message: str, **params
):
    return render(
        request,
        "completions/upload.html",
        {**_history(session, university), "error": gettext(message, **params)},
        status_code=422,
    )


@router.get("/staff/uploads/{batch_id}", name="completions:result")
def result(request: Request, batch: OwnBatch):
    return _batch_page(request, batch)


def _batch_page(request: Request, batch: CompletionBatch, *, error: str = "", status: int = 200):
    outcomes = service.outcomes(batch)
    return render(
        request,
        "completions/result.html",
        {
            "batch": batch,
            "outcomes": outcomes,
            "groups": _problem_groups(outcomes),
            "expired": batch.state == "preview"
            and utcnow() - batch.created_at > service.PREVIEW_LIFETIME,
            "error": error,
        },
        status_code=status,
    )


def _problem_groups(outcomes: list[service.Outcome]) -> list[dict]:
    """Rows with the same problem together ("412 rows: this ID number is not enrolled"),
    the largest group first."""
    groups: dict[tuple, dict] = {}
    for o in outcomes:
        if o.status in ("error", "conflict", "failed", "skipped"):
            message = gettext(o.message, **(o.params or {}))
            group = groups.setdefault(
                (o.status, o.field, message),
                {"status": o.status, "field": o.field, "message": message, "rows": []},
            )
            group["rows"].append(o)
    return sorted(groups.values(), key=lambda g: (-len(g["rows"]), g["message"]))


def _to_job(request: Request, session: Session, job_id: int):
    """Committed, queued and shown: a large file's reading or saving goes on in the background."""
    session.commit()
    queue.of(request.app).submit(job_id)
    return redirect(request, str(request.url_for("jobs:show", job_id=job_id)))


@router.post("/staff/uploads/{batch_id}/save", name="completions:save")
def save(request: Request, session: SessionDep, user: StaffUser, batch: OwnBatch, form: FormDep):
    url = str(request.url_for("completions:result", batch_id=batch.id))
    consent = form.get("consent") == "yes"
    if batch.state == "preview" and batch.rows > request.app.state.settings.upload_job_rows:
        try:
            job = background.queue_save(
                session, batch, user_id=id_of(user), consent_collected=consent
            )
        except (Conflict, Invalid) as exc:
            session.rollback()
            return _batch_page(
                request, batch, error=gettext(exc.message, **exc.params), status=exc.status
            )
        return _to_job(request, session, id_of(job))
    try:
        saved = service.save(
            session,
            batch,
            user_id=user.id,
            actor=f"user:{user.id}",
            now=utcnow(),
            consent_collected=consent,
        )
    except (Conflict, Invalid) as exc:
        session.rollback()
        return _batch_page(
            request, batch, error=gettext(exc.message, **exc.params), status=exc.status
        )
    session.commit()
    if not saved:
        return redirect(request, url, flash=N_("This upload was already saved: nothing changed"))
    if batch.kind == "roster":
        return redirect(
            request, url, flash=N_("Saved: %(new)s rows of the roster"), new=batch.accepted
        )
    return redirect(
        request,
        url,
        flash=N_("Saved: %(new)s new and %(changed)s updated completions"),
        new=batch.accepted,
        changed=batch.updated,
    )


@router.post("/staff/uploads/{batch_id}/reread", name="completions:reread")
def reread(request: Request, session: SessionDep, user: StaffUser, batch: OwnBatch, form: FormDep):
    """The same file previewed again: in another encoding, or as the data stands now."""
    settings = request.app.state.settings
    encoding = _encoding(form)
    if encoding == "":
        return _batch_page(
            request, batch, error=gettext(N_("Choose an encoding from the list")), status=422
        )
    if batch.rows > settings.upload_job_rows:
        try:
            service.check_rereadable(batch)
        except Conflict as exc:
            return _batch_page(request, batch, error=gettext(exc.message), status=exc.status)
        upload = service.upload_of(session, batch, data_dir=settings.data_dir, encoding=encoding)
        upload.user_id = user.id
        queued = background.queue_preview(
            session, upload, format=batch.format, data_dir=settings.data_dir
        )
        service.discard(session, batch)
        assert queued.job_id is not None
        return _to_job(request, session, queued.job_id)
    try:
        fresh = service.reread(
            session,
            batch,
            encoding=encoding,
            user_id=user.id,
            data_dir=settings.data_dir,
            today=clock.today(),
        )
    except (Invalid, Conflict) as exc:
        session.rollback()
        return _batch_page(
            request, batch, error=gettext(exc.message, **exc.params), status=exc.status
        )
    session.commit()
    return redirect(request, str(request.url_for("completions:result", batch_id=fresh.id)))


@router.post("/staff/uploads/{batch_id}/undo", name="completions:undo")
def undo(request: Request, session: SessionDep, user: StaffUser, batch: OwnBatch, form: FormDep):
    url = str(request.url_for("completions:result", batch_id=batch.id))
    try:
        undone = service.undo(
            session, batch, user_id=user.id, actor=f"user:{user.id}", now=utcnow()
        )
    except Conflict as exc:
        session.rollback()
        return _batch_page(
            request, batch, error=gettext(exc.message, **exc.params), status=exc.status
        )
    session.commit()
    if not undone:
        return redirect(request, url, flash=N_("This upload was already undone"))
    return redirect(request, url, flash=N_("Undone: its completions no longer count"))


@router.get("/staff/uploads/{batch_id}/errors.xlsx", name="completions:errors")
def errors_xlsx(request: Request, session: SessionDep, user: StaffUser, batch: OwnBatch):
    settings = request.app.state.settings
    content = report.rejected_rows_xlsx(session, batch, data_dir=settings.data_dir, reason=gettext)
    # The rows as uploaded hold full ID numbers: who took them is a security event.
    audit.record(
        session,
        user.actor,
        "completion.errors_download",
        "completion_batch",
        batch.id,
        id_numbers="full",
    )
    session.commit()
    # The file's own rows, full ID numbers included: never kept by a cache on the way.
    return files.download(content, files.XLSX_TYPE, f"errors-{batch.id}.xlsx")


@api.post(
    "/completions",
    response_model=CompletionBatchPublic | CompletionPreviewPublic,
    responses={200: {"description": "The saved batch, or with dry_run the classification"}},
)
def upload_api(
    request: Request,
    session: SessionDep,
    principal: ApiUniversity,
    university: ApiOwnUniversity,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Query(description="Classify every row and write nothing")] = False,
):
    """Without dry_run the file is classified and its valid rows saved at once."""
    settings = request.app.state.settings
    upload = service.Upload(
        university=university,
        filename=file.filename or "upload",
        api_token_id=principal.token.id,
        data=_read_capped(file, settings.max_upload_bytes),
    )
    if dry_run:
        plan = service.dry_run(session, upload, today=clock.today())
        session.rollback()
        return _classification(plan.outcomes)
    batch = service.import_file(session, upload, data_dir=settings.data_dir, today=clock.today())
    session.commit()
    return _public(batch)


@api.get("/completions/batches/{batch_id}", response_model=CompletionBatchPublic)
def batch_api(batch: ApiOwnBatch):
    """What became of an uploaded file, as its upload answered."""
    return _public(batch)


def _classification(outcomes: list[service.Outcome]) -> CompletionPreviewPublic:
    count = {s: sum(o.status == s for o in outcomes) for s in service.STATUSES}
    return CompletionPreviewPublic(
        rows=len(outcomes),
        counts=count,
        outcomes=[
            RowOutcome(
                row=o.line,
                status=o.status,
                field=o.field or None,
                message=gettext(o.message, **(o.params or {})) if o.message else None,
                course_code=o.course_code or None,
                holder=o.holder or None,
                id_number=o.id_number or None,
                old=o.old,
                new=o.new,
            )
            for o in outcomes
        ],
    )


def _public(batch: CompletionBatch) -> CompletionBatchPublic:
    outcomes = service.outcomes(batch)
    return CompletionBatchPublic(
        batch_id=id_of(batch),
        state=batch.state,
        rows=batch.rows,
        accepted=batch.accepted,
        updated=batch.updated,
        unchanged=batch.unchanged,
        rejected=batch.rejected,
        conflicts=batch.conflicts,
        failed=batch.failed,
        errors=[
            RowProblem(row=o.line, field=o.field, message=gettext(o.message, **(o.params or {})))
            for o in outcomes
            if o.status in ("error", "conflict")
        ],
        converted=[
            ConvertedIdNumber(row=o.line, id_number=o.converted) for o in outcomes if o.converted
        ],
    )
