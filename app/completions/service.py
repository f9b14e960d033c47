"""Completion uploads: rows classified into a preview (classify.py), then saved in one transaction.

A file becomes a batch in state "preview": each row classified (new, changed, unchanged,
conflict, failed, error) and what saving would write kept as the batch's plan; nothing counts
toward the goals yet. Saving writes the plan in one transaction, and only where the database
still holds what the preview was made from, so a row changed since is never overwritten. A
saved batch can be undone while none of its completions has a certificate.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import db
from app.audit import service as audit
from app.auth.models import User
from app.certificates.models import Certificate
from app.completions import originals, parsing
from app.completions.classify import STATUSES, Outcome, Plan, classify
from app.completions.models import Completion, CompletionBatch
from app.db import id_of, utcnow
from app.enrollments.models import Enrollment
from app.errors import Conflict, Invalid, NotFound
from app.fields import has_control_chars
from app.goals import tally
from app.i18n import N_
from app.security import keys_of
from app.universities.models import University

CHUNK = 500  # stays under SQLite's and PostgreSQL's bound-parameter limits
CHECK_CHUNK = 10_000  # keys a db.among parameter holds: one parameter, no such limit
# Rows written that make the planner's statistics worth refreshing (app.db.optimize).
LARGE_WRITE = 1000
# A preview shows the database as it was: older than this, it is read again before saving.
PREVIEW_LIFETIME = timedelta(days=1)
# What a file holds: completions of enrolled trainees, or a roster of trainees who enrolled
# offline, which enrolls them too (app/completions/roster.py).
KINDS = ("completions", "roster")


@dataclass
class Upload:
    university: University
    filename: str
    data: bytes
    user_id: int | None = None
    api_token_id: int | None = None
    encoding: str | None = None
    kind: str = "completions"  # one of KINDS

    @property
    def actor(self) -> str:
        if self.user_id:
            return f"user:{self.user_id}"
        return f"token:{self.api_token_id}" if self.api_token_id else "system"


class Stale(Conflict):
    def __init__(self):
        super().__init__(
            N_(
                "Some of these rows changed after the preview was made (another upload, a "
                "certificate or a withdrawal). Nothing was saved: preview the file again."
            )
        )


class Expired(Conflict):
    def __init__(self):
        super().__init__(
            N_(
                "This preview is more than a day old, so it may no longer show what is "
                "recorded. Nothing was saved: preview the file again."
            )
        )


def preview(session: Session, upload: Upload, *, data_dir: Path, today: date) -> CompletionBatch:
    """The batch of a new file in state "preview": classified, its original kept, nothing
    written but the batch."""
    return _previewed(session, upload, data_dir=data_dir, today=today)[0]


def _previewed(
    session: Session, upload: Upload, *, data_dir: Path, today: date
) -> tuple[CompletionBatch, Plan]:
    parsed = _parse(upload)
    sha256 = sha256_of(upload.data)
    originals.keep(data_dir, sha256, parsed.format, upload.data, keys=keys_of(session))
    plan = _classify_as(upload.kind, session, upload.university, parsed.rows, today)
    batch = queued_batch(session, upload, sha256=sha256, format=parsed.format)
    return _fill(session, batch, parsed, plan), plan


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def queued_batch(session: Session, upload: Upload, *, sha256: str, format: str) -> CompletionBatch:
    """A batch for a kept file, not read yet (a background job reads large ones)."""
    batch = CompletionBatch(
        university_id=id_of(upload.university),
        user_id=upload.user_id,
        api_token_id=upload.api_token_id,
        filename=_printable(upload.filename)[:255],
        sha256=sha256,
        size=len(upload.data),
        format=format,
        encoding=upload.encoding,  # as asked; the one used once it is read
        kind=upload.kind,
        state="queued",
    )
    session.add(batch)
    session.flush()
    return batch


def classify_queued(
    session: Session, batch: CompletionBatch, *, data_dir: Path, today: date
) -> CompletionBatch:
    """A queued batch read from its kept file and classified into a preview."""
    upload = upload_of(session, batch, data_dir=data_dir, encoding=batch.encoding)
    parsed = _parse(upload)
    plan = _classify_as(batch.kind, session, upload.university, parsed.rows, today)
    return _fill(session, batch, parsed, plan)


def upload_of(
    session: Session, batch: CompletionBatch, *, data_dir: Path, encoding: str | None
) -> Upload:
    """The batch's file as it was uploaded, from the kept original."""
    university = session.get(University, batch.university_id)
    assert university is not None
    return Upload(
        university=university,
        filename=batch.filename,
        data=originals.read(batch, data_dir, keys=keys_of(session)),
        user_id=batch.user_id,
        api_token_id=batch.api_token_id,
        encoding=encoding,
        kind=batch.kind,
    )


def dry_run(session: Session, upload: Upload, *, today: date) -> Plan:
    """The classification alone: no batch, no kept file, nothing written."""
    return _classify_as(upload.kind, session, upload.university, _parse(upload).rows, today)


def _classify_as(
    kind: str, session: Session, university: University, rows: list[parsing.Row], today: date
) -> Plan:
    if kind == "roster":
        from app.completions import roster  # it builds on this module

        return roster.classify(session, university, rows, today)
    return classify(session, university, rows, today)


def import_file(
    session: Session, upload: Upload, *, data_dir: Path, today: date
) -> CompletionBatch:
    """Preview and save at once, as the API without dry_run always answered."""
    batch, plan = _previewed(session, upload, data_dir=data_dir, today=today)
    # A completions plan in hand rather than read back from the batch: 0.3 s of a 100,000-row
    # file. A roster's is read back: its writes take their dates as stored (ISO text).
    kept = plan if upload.kind == "completions" else None
    save(session, batch, user_id=upload.user_id, actor=upload.actor, now=utcnow(), plan=kept)
    return batch


def reread(
    session: Session,
    batch: CompletionBatch,
    *,
    encoding: str | None,
    user_id: int | None,
    data_dir: Path,
    today: date,
) -> CompletionBatch:
    """A new preview of a previewed file: read in the encoding the clerk chose, or again
    after the data changed or a day passed. The old preview is discarded."""
    check_rereadable(batch)
    upload = upload_of(session, batch, data_dir=data_dir, encoding=encoding)
    upload.user_id = user_id
    fresh = preview(session, upload, data_dir=data_dir, today=today)
    discard(session, batch)
    return fresh


def check_rereadable(batch: CompletionBatch) -> None:
    if batch.state != "preview":
        raise Conflict(N_("Only a preview can be read again: upload the file again"))


def discard(session: Session, batch: CompletionBatch) -> None:
    """A preview replaced by a newer one of the same file."""
    batch.state = "discarded"
    session.add(batch)
    session.flush()


def save(
    session: Session,
    batch: CompletionBatch,
    *,
    user_id: int | None,
    actor: str,
    now: datetime,
    consent_collected: bool = False,
    plan: Plan | None = None,
) -> bool:
    """Write a preview's plan in the caller's transaction; False when it was saved already
    (by this clerk's second press or by another clerk), which changes nothing. Stale when
    the database no longer holds what the preview was made from, Expired after a day. A
    roster is saved only once the university confirms it collected each trainee's consent."""
    if batch.state == "saved":
        return False
    check_savable(batch, now=now, consent_collected=consent_collected)
    if not _claim(session, batch, "preview", state="saved", saved_at=now, saved_by=user_id):
        return False
    plan = plan or _load_plan(batch.plan)
    try:
        if batch.kind == "roster":
            from app.completions import roster

            roster.write(session, plan, id_of(batch), now=now)
        else:
            write_completions(session, plan, id_of(batch))
    except IntegrityError as exc:  # another upload inserted some of the same completions
        raise Stale() from exc
    if batch.accepted + batch.updated >= LARGE_WRITE:
        db.optimize(session)
    session.refresh(batch)
    audit.record(
        session,
        actor,
        "completion.upload",
        "completion_batch",
        id_of(batch),
        rows=batch.rows,
        accepted=batch.accepted,
        updated=batch.updated,
        rejected=batch.rejected,
        sha256=batch.sha256,
    )
    return True


def _claim(session: Session, batch: CompletionBatch, expected: str, **values) -> bool:
    """Move the batch on from the expected state, first thing in the transaction: of two
    clerks pressing at once, one claims it and the other finds it moved on (PostgreSQL waits
    on the row, SQLite on its write lock), and nothing more happens."""
    claimed = session.connection().execute(
        update(CompletionBatch)
        .where(col(CompletionBatch.id) == batch.id, col(CompletionBatch.state) == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.refresh(batch)
        return False
    return True


def check_savable(batch: CompletionBatch, *, now: datetime, consent_collected: bool) -> None:
    """What refuses a save before anything is written."""
    if batch.state != "preview":
        raise Conflict(N_("This preview was replaced or undone: upload the file again"))
    if now - batch.created_at > PREVIEW_LIFETIME:
        raise Expired()
    if batch.kind == "roster" and not consent_collected:
        raise Invalid(
            [("consent", N_("Confirm that your university collected each trainee's consent"))]
        )


def undo(
    session: Session, batch: CompletionBatch, *, user_id: int | None, actor: str, now: datetime
) -> bool:
    """Withdraw a saved batch's completions and put back the ones it changed; False when it
    was undone already. Refused while any of them has a certificate, or a later upload
    changed them (that one is undone first)."""
    if batch.state == "undone":
        return False
    if batch.state != "saved":
        raise Conflict(N_("Only a saved upload can be undone"))
    if batch.plan is None:
        raise Conflict(N_("This upload was saved before uploads could be undone"))
    if not _claim(session, batch, "saved", state="undone", undone_at=now, undone_by=user_id):
        return False
    plan = _load_plan(batch.plan)
    if batch.kind == "roster":
        from app.completions import roster

        undone = roster.undo(session, plan, batch, now=now)
        session.refresh(batch)
        audit.record(session, actor, "roster.undo", "completion_batch", id_of(batch), **undone)
        return True
    inserted = completions_of(session, [r["enrollment_id"] for r in plan.inserts], by="enrollment")
    changed = completions_of(session, [u["b_id"] for u in plan.updates], by="id")
    if any(row.batch_id != batch.id for row in [*inserted, *changed]) or len(inserted) != len(
        plan.inserts
    ):
        raise Conflict(
            N_("A later upload changed some of this upload's rows: undo that upload first")
        )
    ids = [row.id for row in [*inserted, *changed]]
    if certified(session, ids, issued_only=False):
        raise Conflict(
            N_("Some of this upload's completions have certificates, so it cannot be undone")
        )
    delete_completions(session, [row.id for row in inserted])
    put_back(session, plan.updates, now)
    session.refresh(batch)
    audit.record(
        session,
        actor,
        "completion.undo",
        "completion_batch",
        id_of(batch),
        withdrawn=len(inserted),
        restored=len(changed),
    )
    return True


def delete_completions(session: Session, ids: list[int]) -> None:
    """An undone upload's completions deleted, and no longer counted toward the goals."""
    tally.completions_removed(session, db.among(session, col(Completion.id), ids))
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(Completion).where(col(Completion.id).in_(ids[start : start + CHUNK]))
        )


def put_back(session: Session, updates: list[dict], now: datetime) -> None:
    """The completions a batch changed, as they were before it (undo)."""
    if not updates:
        return
    restore = (
        update(Completion)
        .where(col(Completion.id) == bindparam("b_id"))
        .values(
            completed_on=bindparam("was_completed_on"),
            score=bindparam("was_score"),
            grade=bindparam("was_grade"),
            batch_id=bindparam("was_batch_id"),
            updated_at=now,
        )
    )
    session.connection().execute(restore, sorted(updates, key=lambda u: u["b_id"]))


def completions_of(session: Session, keys: list[int], *, by: str) -> list:
    """The completions by enrollment or by id, locked in id order (as issuing locks them)."""
    column = col(Completion.enrollment_id) if by == "enrollment" else col(Completion.id)
    found: list = []
    for start in range(0, len(keys), CHUNK):
        found += session.execute(
            sa_select(col(Completion.id), col(Completion.batch_id))
            .where(column.in_(keys[start : start + CHUNK]))
            .order_by(col(Completion.id))
            .with_for_update()
        ).all()
    return found


def _parse(upload: Upload) -> parsing.ParsedFile:
    try:
        if upload.kind == "roster":
            from app.completions import roster

            return roster.parse(upload.filename, upload.data, encoding=upload.encoding)
        return parsing.parse_completion_file(upload.filename, upload.data, encoding=upload.encoding)
    except parsing.UploadRefused as exc:
        raise Invalid([("file", exc.message)], message=exc.message, params=exc.params) from exc


def _printable(filename: str) -> str:
    # Controls and invisible format characters dropped: "\u202egpj.exe" would show as "exe.jpg".
    return "".join(ch for ch in filename if not has_control_chars(ch)) or "upload"


def _fill(
    session: Session, batch: CompletionBatch, parsed: parsing.ParsedFile, plan: Plan
) -> CompletionBatch:
    """A batch's rows as classified: its counts, report and plan; now a preview."""
    count = dict.fromkeys(STATUSES, 0) | Counter(o.status for o in plan.outcomes)
    batch.encoding = parsed.encoding
    batch.rows = len(plan.outcomes)
    batch.accepted, batch.updated = count["new"], count["changed"]
    batch.unchanged = count["unchanged"]
    batch.rejected = count["error"] + count["conflict"]
    batch.conflicts, batch.failed = count["conflict"], count["failed"]
    # Fields left at their defaults are left out: a 100,000-row report stays small.
    batch.report = json.dumps(
        [{k: v for k, v in o.__dict__.items() if v or k == "line"} for o in plan.outcomes],
        ensure_ascii=False,
    )
    batch.plan = dump_plan(plan)
    batch.state = "preview"
    session.add(batch)
    session.flush()
    return batch


_DATES = ("completed_on", "was_completed_on")
_DECIMALS = ("score", "was_score", "hours")


def dump_plan(plan: Plan) -> str:
    stored = {"inserts": plan.inserts, "updates": plan.updates, "extra": plan.extra}
    return json.dumps(stored, default=str)


def _load_plan(text: str | None) -> Plan:
    stored = json.loads(text or "{}")

    def typed(row: dict) -> dict:
        for key in _DATES:
            if row.get(key) is not None:
                row[key] = date.fromisoformat(row[key])
        for key in _DECIMALS:
            if row.get(key) is not None:
                row[key] = Decimal(row[key])
        return row

    return Plan(
        inserts=[typed(r) for r in stored.get("inserts", [])],
        updates=[typed(u) for u in stored.get("updates", [])],
        extra=stored.get("extra", {}),
    )


def write_completions(session: Session, plan: Plan, batch_id: int) -> None:
    """Core executemany, not one ORM object per row: about 15x faster for thousands of rows.
    Stale when the database no longer holds what the plan was made from."""
    now = utcnow()
    enrollments = [r["enrollment_id"] for r in plan.inserts]
    for start in range(0, len(enrollments), CHECK_CHUNK):
        chunk = enrollments[start : start + CHECK_CHUNK]
        withdrawn = session.execute(
            sa_select(func.count())
            .select_from(Enrollment)
            .where(
                db.among(session, col(Enrollment.id), chunk), col(Enrollment.status) != "enrolled"
            )
        ).scalar_one()
        if withdrawn:
            raise Stale()
    if plan.inserts:
        rows = [
            {**r, "batch_id": batch_id, "created_at": now, "updated_at": now} for r in plan.inserts
        ]
        # The table, not the class: without the ORM's bulk bookkeeping.
        db.insert_rows(session, Completion.__table__, rows)  # type: ignore[attr-defined]
        tally.completions_added(
            session, db.among(session, col(Completion.enrollment_id), enrollments)
        )
    if plan.updates:
        # Only where the completion still holds what was previewed: checked below by
        # counting the rows that now name this batch.
        stmt = (
            update(Completion)
            .where(
                col(Completion.id) == bindparam("b_id"),
                col(Completion.completed_on) == bindparam("was_completed_on"),
                or_(
                    col(Completion.score) == bindparam("was_score"),
                    col(Completion.score).is_(None) & bindparam("was_score").is_(None),
                ),
                or_(
                    col(Completion.grade) == bindparam("was_grade"),
                    col(Completion.grade).is_(None) & bindparam("was_grade").is_(None),
                ),
            )
            .values(
                completed_on=bindparam("completed_on"),
                score=bindparam("score"),
                grade=bindparam("grade"),
                batch_id=batch_id,
                updated_at=now,
            )
        )
        # In id order, as certificate issuing locks them: two lock orders could deadlock.
        updates = sorted(plan.updates, key=lambda u: u["b_id"])
        session.connection().execute(stmt, updates)
        ids = [u["b_id"] for u in updates]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            done = session.execute(
                sa_select(func.count())
                .select_from(Completion)
                .where(col(Completion.id).in_(chunk), col(Completion.batch_id) == batch_id)
            ).scalar_one()
            if done != len(chunk):
                raise Stale()
        # Checked after the update holds the row locks (and SQLite's write lock): a
        # certificate issued since the file was read would be contradicted by the change.
        if certified(session, ids, issued_only=True):
            raise Stale()


def certified(session: Session, completion_ids: list[int], *, issued_only: bool) -> bool:
    for start in range(0, len(completion_ids), CHUNK):
        query = select(Certificate.id).where(
            col(Certificate.completion_id).in_(completion_ids[start : start + CHUNK])
        )
        if issued_only:
            query = query.where(Certificate.status == "issued")
        if session.exec(query.limit(1)).first() is not None:
            return True
    return False


def get_batch(session: Session, batch_id: int) -> CompletionBatch:
    batch = session.get(CompletionBatch, batch_id)
    if batch is None:
        raise NotFound(N_("No upload has this number"))
    return batch


def recent_batches(
    session: Session, university: University, *, limit: int = 50
) -> list[CompletionBatch]:
    """The university's import history, newest first; discarded previews left out."""
    return list(
        session.exec(
            select(CompletionBatch)
            .where(
                CompletionBatch.university_id == university.id,
                CompletionBatch.state != "discarded",
            )
            .order_by(col(CompletionBatch.id).desc())
            .limit(limit)
        )
    )


def uploaders(session: Session, batches: list[CompletionBatch]) -> dict[int, str]:
    """Who uploaded each batch, for the import history: the staff member's email, or "API"."""
    ids = {b.user_id for b in batches if b.user_id}
    emails: dict[int | None, str] = {}
    if ids:
        query = select(User.id, User.email).where(col(User.id).in_(ids))
        emails = {user_id: email for user_id, email in session.exec(query)}
    return {id_of(b): emails.get(b.user_id, "") if b.user_id else "API" for b in batches}


def outcomes(batch: CompletionBatch) -> list[Outcome]:
    return [Outcome(**o) for o in json.loads(batch.report)]
