import io
import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlmodel import col, select

from app import clock
from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.completions import parsing, service
from app.completions.models import CompletionBatch
from app.db import SessionDep
from app.errors import Invalid, TooLarge
from app.i18n import N_, gettext
from app.universities.models import University
from app.web import FormDep, redirect, render

router = APIRouter(dependencies=[Depends(load_user)])
BatchId = Annotated[int, Path(ge=1, le=2**31 - 1)]
api = APIRouter(tags=["completions"])


def _read_capped(upload, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(N_("The file is larger than the %(mb)s MB limit"), params={"mb": limit >> 20})
    return data


def _recent(session, university_id: int) -> list[CompletionBatch]:
    return list(session.exec(select(CompletionBatch).where(
        CompletionBatch.university_id == university_id)
        .order_by(col(CompletionBatch.id).desc()).limit(20)))


@router.get("/staff/uploads", name="completions:upload")
def upload_page(request: Request, session: SessionDep, user: StaffUser):
    return render(request, "completions/upload.html",
                  {"batches": _recent(session, user.university_id), "error": None})


@router.post("/staff/uploads", name="completions:upload_post")
def upload(request: Request, session: SessionDep, user: StaffUser, form: FormDep):
    settings = request.app.state.settings
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return _upload_error(request, session, user, N_("Choose a CSV or XLSX file"))
    encoding = str(form.get("encoding") or "") or None
    if encoding not in (None, "utf-8", "gb18030"):
        return _upload_error(request, session, user, N_("Choose an encoding from the list"))
    upload = service.Upload(university=session.get(University, user.university_id),
                            filename=file.filename, data=_read_capped(file, settings.max_upload_bytes),
                            user_id=user.id, encoding=encoding)
    try:
        batch = service.import_file(session, upload, data_dir=settings.data_dir, today=clock.today())
    except Invalid as exc:
        session.rollback()
        return _upload_error(request, session, user, exc.message, **exc.params)
    session.commit()
    return redirect(request, str(request.url_for("completions:result", batch_id=batch.id)),
                    flash=N_("File processed"))


def _upload_error(request, session, user, message: str, **params):
    return render(request, "completions/upload.html", {
        "batches": _recent(session, user.university_id), "error": gettext(message, **params)},
        status_code=422)


@router.get("/staff/uploads/{batch_id}", name="completions:result")
def result(request: Request, session: SessionDep, user: StaffUser, batch_id: BatchId):
    batch = service.get_batch(session, batch_id, user.university_id)
    return render(request, "completions/result.html",
                  {"batch": batch, "outcomes": service.outcomes(batch)})


@router.get("/staff/uploads/{batch_id}/errors.xlsx", name="completions:errors")
def errors_xlsx(request: Request, session: SessionDep, user: StaffUser, batch_id: BatchId):
    batch = service.get_batch(session, batch_id, user.university_id)
    rows = service.error_report(batch, request.app.state.settings.data_dir, gettext)
    return Response(_text_workbook(rows), media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="errors-{batch.id}.xlsx"'})


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters XML 1.0 cannot hold: openpyxl refuses them with an error whose message is the
# whole cell, an ID number perhaps, and the download fails. They become U+FFFD, not nothing,
# so that "370102\x07..." stays visibly wrong instead of turning into a valid-looking ID.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_workbook(rows: list[list[str]]) -> bytes:
    """Every cell is text: Excel keeps 18-digit ID numbers intact (a CSV would turn them into
    3.70102E+17), and a cell starting with "=" stays text instead of running as a formula."""
    workbook = Workbook(write_only=True)  # streamed: a few times faster than cell by cell
    sheet = workbook.create_sheet()
    for row in rows:
        cells = []
        for value in row:
            if value == "":
                cells.append(None)  # left empty, as Excel leaves it
                continue
            # Cut at Excel's cell size: Excel calls a workbook with a longer cell damaged.
            cell = WriteOnlyCell(sheet, _NOT_IN_XML.sub("\ufffd", str(value))[:parsing.MAX_CELL])
            cell.data_type, cell.number_format = "s", "@"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@api.post("/completions")
def upload_api(request: Request, session: SessionDep, principal: ApiUniversity,
               file: UploadFile = File(...)):
    settings = request.app.state.settings
    upload = service.Upload(university=session.get(University, principal.university_id),
                            filename=file.filename or "upload", api_token_id=principal.token.id,
                            data=_read_capped(file, settings.max_upload_bytes))
    batch = service.import_file(session, upload, data_dir=settings.data_dir, today=clock.today())
    session.commit()
    return {"batch_id": batch.id, "rows": batch.rows, "accepted": batch.accepted,
            "updated": batch.updated, "unchanged": batch.unchanged, "rejected": batch.rejected,
            "errors": [{"row": o.line, "field": o.field, "message": gettext(o.message)}
                       for o in service.outcomes(batch) if o.status == "error"]}
