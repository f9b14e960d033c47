"""Large uploads as background jobs (the job ledger of app/jobs): reading and classifying a
file of many rows, and saving its preview, each one item done in one transaction.

The request keeps the file and makes the batch in state "queued"; the preview job classifies
it into a preview; the save job saves it. Both are idempotent: an item done again finds the
batch no longer queued, or already saved, and does nothing.
"""

import io
import re
import zipfile

from sqlmodel import Session

from app import clock
from app.completions import csvfile, originals, service, xlsx
from app.completions.limits import EXCEL_ROWS, UploadRefused
from app.completions.models import CompletionBatch
from app.db import id_of, utcnow
from app.errors import AppError
from app.i18n import N_
from app.jobs import registry
from app.jobs import service as jobs
from app.jobs.models import Job
from app.security import keys_of

PREVIEW, SAVE = "completions.preview", "completions.save"
# A CSV line with something in it: Excel's exports carry thousands of ",,,," lines.
_FILLED_LINE = re.compile(rb"^[ \t,;\"']*[^ \t,;\"'\r\n]", re.MULTILINE)


def estimated_rows(filename: str, data: bytes) -> tuple[str, int]:
    """The file's format and about how many rows it has, cheaply: a CSV's line breaks, an
    XLSX sheet's declared dimension (checked archives only). Only the way the file is read
    depends on it; a file that lies is still held to every limit by the reader. (0, and the
    reader says why, for a file it will refuse.)"""
    try:
        kind = csvfile.detect_format(filename, data)
        if kind == "csv":
            if data.count(b"\n") > EXCEL_ROWS:
                return kind, 0  # refused at once by the reader, in the request
            return kind, len(_FILLED_LINE.findall(data))
        xlsx.check_archive(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            if not sheets:
                return kind, 0
            with archive.open(sheets[0]) as part:
                head = part.read(4096)
    except (UploadRefused, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return "csv", 0
    declared = re.search(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    return kind, int(declared.group(1)) if declared else 0


def queue_preview(
    session: Session, upload: service.Upload, *, format: str, data_dir
) -> CompletionBatch:
    """The file kept and its batch queued for reading; the caller commits, then submits
    batch.job_id (app.jobs.queue)."""
    sha256 = service.sha256_of(upload.data)
    originals.keep(data_dir, sha256, format, upload.data, keys=keys_of(session))
    batch = service.queued_batch(session, upload, sha256=sha256, format=format)
    job = jobs.start(
        session,
        kind=PREVIEW,
        university_id=id_of(upload.university),
        actor=upload.actor,
        item_keys=[str(batch.id)],
        params={"batch_id": batch.id},
    )
    batch.job_id = job.id
    session.add(batch)
    session.flush()
    return batch


def queue_save(
    session: Session, batch: CompletionBatch, *, user_id: int, consent_collected: bool
) -> Job:
    """The preview's save as a job, checked first as a save in the request would be."""
    service.check_savable(batch, now=utcnow(), consent_collected=consent_collected)
    job = jobs.start(
        session,
        kind=SAVE,
        university_id=batch.university_id,
        actor=f"user:{user_id}",
        item_keys=[str(batch.id)],
        params={"batch_id": batch.id, "user_id": user_id, "consent": consent_collected},
    )
    batch.job_id = job.id
    session.add(batch)
    session.flush()
    return job


def _read(item: registry.Item) -> str:
    batch = service.get_batch(item.session, int(item.key))
    if batch.state != "queued":
        return str(batch.id)  # done by an earlier attempt
    try:
        service.classify_queued(
            item.session, batch, data_dir=item.settings.data_dir, today=clock.today()
        )
    except AppError as exc:
        raise registry.ItemRefused(exc.message, exc.params) from exc
    return str(batch.id)


def _save(item: registry.Item) -> str:
    batch = service.get_batch(item.session, int(item.key))
    params = jobs.params_of(item.job)
    try:
        service.save(
            item.session,
            batch,
            user_id=params.get("user_id"),
            actor=item.job.actor,
            now=utcnow(),
            consent_collected=bool(params.get("consent")),
        )
    except AppError as exc:
        raise registry.ItemRefused(exc.message, exc.params) from exc
    return str(batch.id)


def _links(job: Job) -> list[registry.Link]:
    batch_id = jobs.params_of(job).get("batch_id")
    if not batch_id:
        return []
    label = N_("Open the preview") if job.kind == PREVIEW else N_("Open the upload")
    return [registry.Link(label, "completions:result", {"batch_id": batch_id})]


def _files(session: Session, keys: list[str]) -> dict[str, str]:
    batches = [session.get(CompletionBatch, int(k)) for k in keys if k.isdigit()]
    return {str(b.id): b.filename for b in batches if b is not None}


registry.register(
    registry.Kind(
        name=PREVIEW,
        label=N_("Reading an upload"),
        do_item=_read,
        describe=_files,
        links=_links,
    )
)
registry.register(
    registry.Kind(
        name=SAVE,
        label=N_("Saving an upload"),
        do_item=_save,
        describe=_files,
        links=_links,
    )
)
