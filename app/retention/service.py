"""What the retention job takes away, each part idempotent and audited with a count.

Contact details (mobile, email) of enrollments whose course ended more than
retention_contact_days ago are anonymised; the enrollments themselves stay, so the goal counts,
completions and certificates (which never held a contact detail) are what they were. Uploaded
originals and kept export files older than retention_upload_days are deleted: they hold ID
numbers in clear (under their encryption). A batch whose original is gone keeps its outcomes,
and its error report its lines and reasons (app/completions/report.py).
"""

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.completions import originals
from app.completions.models import CompletionBatch
from app.config import Settings
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.exports import service as exports
from app.jobs.models import Job
from app.retention.anonymise import anonymise_contacts, is_identifiable


def anonymise_ended(session: Session, settings: Settings, *, actor: str, today: date) -> int:
    """Contacts of enrollments in courses ended before the period; returns how many."""
    ended_before = today - timedelta(days=settings.retention_contact_days)
    due = session.exec(
        select(Enrollment.id)
        .join(Course, col(Course.id) == Enrollment.course_id)
        .where(col(Course.ends_on) < ended_before, is_identifiable())
    ).all()
    count = anonymise_contacts(session, [i for i in due if i is not None])
    audit.record(
        session,
        actor,
        "retention.contacts",
        "enrollment",
        None,
        anonymised=count,
        ended_before=ended_before.isoformat(),
    )
    return count


def delete_old_originals(session: Session, settings: Settings, *, actor: str, now: datetime) -> int:
    """Uploaded files no batch of the period names (the same file uploaded again is kept once,
    so the newest batch naming it decides); returns how many files were deleted."""
    cutoff = now - timedelta(days=settings.retention_upload_days)
    stale = session.exec(
        select(CompletionBatch.sha256, CompletionBatch.format)
        .group_by(col(CompletionBatch.sha256), col(CompletionBatch.format))
        .having(func.max(CompletionBatch.created_at) < cutoff)
    ).all()
    count = sum(_delete(originals.path_of(settings.data_dir, sha, fmt)) for sha, fmt in stale)
    audit.record(
        session,
        actor,
        "retention.uploads",
        "completion_batch",
        None,
        deleted=count,
        before=cutoff.date().isoformat(),
    )
    return count


def delete_old_exports(session: Session, settings: Settings, *, actor: str, now: datetime) -> int:
    """Export files made before the period; the job stays, with no file to download."""
    cutoff = now - timedelta(days=settings.retention_upload_days)
    old = session.exec(
        select(Job).where(
            col(Job.kind).in_(exports.KINDS.values()),
            col(Job.result_path).is_not(None),
            col(Job.created_at) < cutoff,
        )
    ).all()
    count = 0
    for job in old:
        count += _delete(exports.file_path(settings.data_dir, job))
        session.execute(update(Job).where(col(Job.id) == job.id).values(result_path=None))
    audit.record(
        session,
        actor,
        "retention.exports",
        "job",
        None,
        deleted=count,
        before=cutoff.date().isoformat(),
    )
    return count


def _delete(path: Path) -> int:
    if not path.is_file():
        return 0  # deleted by an earlier run, or never kept
    path.unlink(missing_ok=True)
    return 1
