from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session
from starlette import datastructures

from app import clock
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.completions import report, service
from app.completions.deps import ApiOwnBatch, OwnBatch
from app.completions.models import (
    CompletionBatch,
    CompletionBatchPublic,
    ConvertedIdNumber,
    RowProblem,
)
from app.db import SessionDep, id_of
from app.errors import Invalid, TooLarge
from app.i18n import N_, gettext
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
        request,
        "completions/upload.html",
        {"batches": service.recent_batches(session, university), "error": None},
    )


@router.post("/staff/uploads", name="completions:upload_post")
def upload(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    university: StaffUniversity,
    form: FormDep,
):
    settings = request.app.state.settings
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return _upload_error(request, session, university, N_("Choose a CSV or XLSX file"))
    encoding = str(form.get("encoding") or "") or None
    if encoding not in (None, "utf-8", "gb18030"):
        return _upload_error(request, session, university, N_("Choose an encoding from the list"))
    upload = service.Upload(
        university=university,
        filename=file.filename,
        data=_read_capped(file, settings.max_upload_bytes),
        user_id=user.id,
        encoding=encoding,
    )
    try:
        batch = service.import_file(
            session, upload, data_dir=settings.data_dir, today=clock.today()
        )
    except Invalid as exc:
        session.rollback()
        return _upload_error(request, session, university, exc.message, **exc.params)
    session.commit()
    return redirect(
        request,
        str(request.url_for("completions:result", batch_id=batch.id)),
        flash=N_("File processed"),
    )


def _upload_error(
    request: Request, session: Session, university: University, message: str, **params
):
    return render(
        request,
        "completions/upload.html",
        {
            "batches": service.recent_batches(session, university),
            "error": gettext(message, **params),
        },
        status_code=422,
    )


@router.get("/staff/uploads/{batch_id}", name="completions:result")
def result(request: Request, batch: OwnBatch):
    return render(
        request, "completions/result.html", {"batch": batch, "outcomes": service.outcomes(batch)}
    )


@router.get("/staff/uploads/{batch_id}/errors.xlsx", name="completions:errors")
def errors_xlsx(request: Request, session: SessionDep, batch: OwnBatch):
    settings = request.app.state.settings
    content = report.rejected_rows_xlsx(session, batch, data_dir=settings.data_dir, reason=gettext)
    return Response(
        content,
        media_type=report.XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="errors-{batch.id}.xlsx"'},
    )


@api.post("/completions", response_model=CompletionBatchPublic)
def upload_api(
    request: Request,
    session: SessionDep,
    principal: ApiUniversity,
    university: ApiOwnUniversity,
    file: Annotated[UploadFile, File()],
):
    settings = request.app.state.settings
    upload = service.Upload(
        university=university,
        filename=file.filename or "upload",
        api_token_id=principal.token.id,
        data=_read_capped(file, settings.max_upload_bytes),
    )
    batch = service.import_file(session, upload, data_dir=settings.data_dir, today=clock.today())
    session.commit()
    return _public(batch)


@api.get("/completions/batches/{batch_id}", response_model=CompletionBatchPublic)
def batch_api(batch: ApiOwnBatch):
    """What became of an uploaded file, as its upload answered."""
    return _public(batch)


def _public(batch: CompletionBatch) -> CompletionBatchPublic:
    outcomes = service.outcomes(batch)
    return CompletionBatchPublic(
        batch_id=id_of(batch),
        rows=batch.rows,
        accepted=batch.accepted,
        updated=batch.updated,
        unchanged=batch.unchanged,
        rejected=batch.rejected,
        errors=[
            RowProblem(row=o.line, field=o.field, message=gettext(o.message))
            for o in outcomes
            if o.status == "error"
        ],
        converted=[
            ConvertedIdNumber(row=o.line, id_number=o.converted) for o in outcomes if o.converted
        ],
    )
