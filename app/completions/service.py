"""Completion uploads: every row classified into a preview, then saved in one transaction.

A file becomes a batch in state "preview": each row classified (new, changed, unchanged,
conflict, failed, error) and what saving would write kept as the batch's plan; nothing counts
toward the goals yet. Saving writes the plan in one transaction, and only where the database
still holds what the preview was made from, so a row changed since is never overwritten. A
saved batch can be undone while none of its completions has a certificate.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import db
from app.audit import service as audit
from app.auth.models import User
from app.certificates.models import Certificate
from app.completions import checks, originals, parsing
from app.completions.models import Completion, CompletionBatch
from app.courses.models import Course
from app.db import id_of, utcnow
from app.enrollments.models import Enrollment
from app.errors import Conflict, Invalid, NotFound
from app.fields import has_control_chars
from app.i18n import N_
from app.security import keys_of
from app.text import masked
from app.trainees import validators
from app.trainees.models import Trainee
from app.universities.models import University

CHUNK = 500  # stays under SQLite's and PostgreSQL's bound-parameter limits
LOOKUP_CHUNK = 2000  # one key a parameter: far under both limits, and a quarter the queries
# Rows written that make the planner's statistics worth refreshing (app.db.optimize).
LARGE_WRITE = 1000
# A preview shows the database as it was: older than this, it is read again before saving.
PREVIEW_LIFETIME = timedelta(days=1)
# error: the row's own fields are wrong, or nothing matches it; conflict: it contradicts what
# is recorded (another name, a certified completion, itself elsewhere in the file); failed: a
# failing grade, which is no completion.
# skipped: no completion date nor score, so nothing to record (a trainee who has not completed).
STATUSES = ("new", "changed", "unchanged", "conflict", "failed", "skipped", "error")
# What a file holds: completions of enrolled trainees, or a roster of trainees who enrolled
# offline, which enrolls them too (app/completions/roster.py).
KINDS = ("completions", "roster")


@dataclass
class Outcome:
    line: int
    status: str  # one of STATUSES
    field: str = ""
    message: str = ""
    course_code: str = ""
    holder: str = ""  # the trainee's name, masked
    id_number: str = ""  # masked
    # A 15-digit first-generation number converted to 18 digits: the 18 digits, masked.
    converted: str = ""
    params: dict[str, str] | None = None  # the message's
    # A changed row: what is recorded and what the file says ({"completed_on", "result"}).
    old: dict[str, str] | None = None
    new: dict[str, str] | None = None


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


@dataclass
class Plan:
    outcomes: list[Outcome] = field(default_factory=list)
    inserts: list[dict] = field(default_factory=list)
    # Each with what the completion held when previewed (was_*): saving changes it only if
    # it still does, and undoing puts it back.
    updates: list[dict] = field(default_factory=list)
    # A roster's own writes (trainees, companies, enrollments), as roster.py plans them.
    extra: dict = field(default_factory=dict)


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
    parsed = _parse(upload)
    sha256 = sha256_of(upload.data)
    originals.keep(data_dir, sha256, parsed.format, upload.data, keys=keys_of(session))
    plan = _classify_as(upload.kind, session, upload.university, parsed.rows, today)
    batch = queued_batch(session, upload, sha256=sha256, format=parsed.format)
    return _fill(session, batch, parsed, plan)


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
    batch = preview(session, upload, data_dir=data_dir, today=today)
    save(session, batch, user_id=upload.user_id, actor=upload.actor, now=utcnow())
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
    plan = _load_plan(batch.plan)
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
    for start in range(0, len(inserted), CHUNK):
        chunk = [row.id for row in inserted[start : start + CHUNK]]
        session.execute(delete(Completion).where(col(Completion.id).in_(chunk)))
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


def classify(
    session: Session, university: University, rows: list[parsing.Row], today: date
) -> Plan:
    courses = {
        c.code: c for c in session.exec(select(Course).where(Course.university_id == university.id))
    }
    plan = Plan()
    passed: list[tuple[int, checks.Checked]] = []
    for row in rows:
        result = checks.check_row(row, courses, today)
        if isinstance(result, checks.Refusal):
            plan.outcomes.append(
                Outcome(
                    row.line,
                    "skipped" if result is checks.BLANK else "error",
                    result.field,
                    result.message,
                    course_code=row.values.get("course_code", "")[:32],
                    holder=validators.mask_name(row.values.get("name", "")[:64]),
                    id_number=masked(row.values.get("id_number", "")[:32]),
                )
            )
        else:
            passed.append((row.line, result))
    keys = keys_of(session)
    hashes = {n: keys.lookup_hash(n) for n in dict.fromkeys(c.id_number for _, c in passed)}
    with db.custom_plans(session):  # chunked look-ups: see app.db.custom_plans
        known = load_state(session, list(hashes.values()), [id_of(c) for c in courses.values()])
    seen: dict[int, tuple] = {}
    for line, values in passed:
        plan.outcomes.append(_match(line, values, hashes, known, seen, plan))
    plan.outcomes.sort(key=lambda o: o.line)
    return plan


def load_state(session: Session, hashes: list[str], course_ids: list[int]) -> dict:
    """(id_hash, course_id) -> the enrollment with its trainee's name, completion and certificate.

    One table at a time, each by its own index: the trainees by ID hash, then their
    enrollments, completions and certificates by key, joined here. A join in SQL leaves its
    order to the planner, and without statistics (a new database, or one just filled) SQLite
    drove it from the course index, reading every enrollment of the course for each chunk of
    hashes: 92 ms a chunk instead of a few. Plain column rows are several times cheaper than
    ORM objects."""
    from types import SimpleNamespace  # the rows' shape, as the join's rows had it

    wanted = set(course_ids)
    known = {}
    # Core on the session's connection: the ORM's result machinery doubled the cost.
    connection = session.connection()
    for i in range(0, len(hashes), LOOKUP_CHUNK):
        trainees = {
            t.id: t
            for t in connection.execute(
                sa_select(col(Trainee.id), col(Trainee.id_hash), col(Trainee.name)).where(
                    col(Trainee.id_hash).in_(hashes[i : i + LOOKUP_CHUNK])
                )
            )
        }
        if not trainees:
            continue
        # A trainee has a few enrollments: the course is picked here, so that no index on
        # the course can tempt the planner.
        enrollments = [
            e
            for e in connection.execute(
                sa_select(
                    col(Enrollment.id),
                    col(Enrollment.course_id),
                    col(Enrollment.trainee_id),
                    col(Enrollment.company_id),
                    col(Enrollment.status),
                ).where(col(Enrollment.trainee_id).in_(list(trainees)))
            )
            if e.course_id in wanted
        ]
        completions = {
            c.enrollment_id: c
            for c in connection.execute(
                sa_select(
                    col(Completion.id),
                    col(Completion.enrollment_id),
                    col(Completion.completed_on),
                    col(Completion.score),
                    col(Completion.grade),
                    col(Completion.batch_id),
                ).where(col(Completion.enrollment_id).in_([e.id for e in enrollments]))
            )
        }
        certificates = {
            c.completion_id: c.id
            for c in connection.execute(
                sa_select(col(Certificate.id), col(Certificate.completion_id))
                .where(col(Certificate.completion_id).in_([c.id for c in completions.values()]))
                .order_by(col(Certificate.id))
            )
        }
        for e in enrollments:
            trainee, done = trainees[e.trainee_id], completions.get(e.id)
            known[(trainee.id_hash, e.course_id)] = SimpleNamespace(
                id_hash=trainee.id_hash,
                name=trainee.name,
                course_id=e.course_id,
                trainee_id=e.trainee_id,
                company_id=e.company_id,
                status=e.status,
                enrollment_id=e.id,
                completion_id=done.id if done else None,
                completed_on=done.completed_on if done else None,
                score=done.score if done else None,
                grade=done.grade if done else None,
                completion_batch_id=done.batch_id if done else None,
                certificate_id=certificates.get(done.id) if done else None,
            )
    return known


def _match(
    line: int,
    values: checks.Checked,
    hashes: dict[str, str],
    known: dict,
    seen: dict[int, tuple],
    plan: Plan,
) -> Outcome:
    """The checks that need the database, on a row whose own fields passed checks.check_row."""
    course = values.course
    out = Outcome(line, "error", course_code=course.code, id_number=masked(values.id_number))
    if values.converted_from_15:
        out.converted = masked(values.id_number)
    found = known.get((hashes[values.id_number], course.id))
    out.holder = validators.mask_name(found.name if found is not None else values.name)
    if found is None:
        out.field, out.message = "id_number", N_("This ID number is not enrolled in this course")
        return out
    if values.name and values.name != found.name:
        out.status, out.field = "conflict", "name"
        out.message = N_("The name does not match the enrollment")
        return out
    if found.status != "enrolled":
        out.field, out.message = "id_number", N_("This enrollment was withdrawn")
        return out
    key = (values.completed_on, values.score, values.grade, values.passed)
    if found.enrollment_id in seen:
        if seen[found.enrollment_id] == key:
            out.status = "unchanged"
        else:
            out.status, out.field = "conflict", "id_number"
            out.message = N_("The same trainee and course appear twice with different data")
        return out
    seen[found.enrollment_id] = key
    if not values.passed:
        return failing_grade(out, found, values)
    return plan_completion(out, found, values, plan)


def failing_grade(out: Outcome, found, values: checks.Checked) -> Outcome:
    out.field, out.params = "score", {"grade": values.grade or ""}
    if found.completion_id is not None:
        # Never a silent withdrawal: the completion stays until its upload is undone.
        out.status = "conflict"
        out.message = N_(
            "A failing grade (%(grade)s), but a completion is recorded for this trainee: "
            "undo the upload that recorded it if it was wrong"
        )
    else:
        out.status = "failed"
        out.message = N_("A failing grade (%(grade)s): not a completion, not counted")
    return out


def plan_completion(out: Outcome, found, values: checks.Checked, plan: Plan) -> Outcome:
    course = values.course
    fields = {"completed_on": values.completed_on, "score": values.score, "grade": values.grade}
    if found.completion_id is None:
        plan.inserts.append(
            {
                "enrollment_id": found.enrollment_id,
                "course_id": course.id,
                "university_id": course.university_id,
                "trainee_id": found.trainee_id,
                "company_id": found.company_id,
                "hours": course.hours,
                **fields,
            }
        )
        out.status = "new"
        return out
    recorded = (found.completed_on, _dec(found.score), found.grade)
    if recorded == (values.completed_on, _dec(values.score), values.grade):
        out.status = "unchanged"
        return out
    out.old = _shown(found.completed_on, found.score, found.grade)
    out.new = _shown(values.completed_on, values.score, values.grade)
    if found.certificate_id is not None:
        out.status, out.field = "conflict", "completed_on"
        out.message = N_("A certificate was already issued for this completion; it cannot change")
        return out
    plan.updates.append(
        {
            "b_id": found.completion_id,
            **fields,
            "was_completed_on": found.completed_on,
            "was_score": found.score,
            "was_grade": found.grade,
            "was_batch_id": found.completion_batch_id,
        }
    )
    out.status = "changed"
    return out


def _shown(completed_on: date, score, grade: str | None) -> dict[str, str]:
    result = grade or ("" if score is None else f"{_dec(score):f}")
    return {"completed_on": completed_on.isoformat(), "result": result}


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value).normalize()


def _printable(filename: str) -> str:
    # Controls and invisible format characters dropped: "\u202egpj.exe" would show as "exe.jpg".
    return "".join(ch for ch in filename if not has_control_chars(ch)) or "upload"


def _fill(
    session: Session, batch: CompletionBatch, parsed: parsing.ParsedFile, plan: Plan
) -> CompletionBatch:
    """A batch's rows as classified: its counts, report and plan; now a preview."""
    count = {s: sum(o.status == s for o in plan.outcomes) for s in STATUSES}
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
    for start in range(0, len(enrollments), CHUNK):
        chunk = enrollments[start : start + CHUNK]
        withdrawn = session.execute(
            sa_select(func.count())
            .select_from(Enrollment)
            .where(col(Enrollment.id).in_(chunk), col(Enrollment.status) != "enrolled")
        ).scalar_one()
        if withdrawn:
            raise Stale()
    if plan.inserts:
        rows = [
            {**r, "batch_id": batch_id, "created_at": now, "updated_at": now} for r in plan.inserts
        ]
        # The table, not the class: Core's executemany, without the ORM's bulk bookkeeping.
        session.connection().execute(insert(Completion.__table__), rows)  # type: ignore[attr-defined]
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
