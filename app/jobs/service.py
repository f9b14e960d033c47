"""The job ledger: a job, its items in order, leased in chunks, counted for progress.

The queue (Huey) only says "look at job 7"; what is left to do, who holds it and until when,
and what became of each item are rows here. So a worker killed mid-chunk loses nothing: its
items' leases run out and whoever leases next does them again (each kind's item is idempotent).
"""

import json
from datetime import datetime, timedelta

from sqlalchemy import case, func, insert, or_, update
from sqlmodel import Session, col, select

from app.db import id_of, utcnow
from app.errors import NotFound
from app.i18n import N_
from app.jobs.models import Job, JobItem

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PENDING = "pending"
UNFINISHED = (QUEUED, RUNNING)
# An item whose worker died this many times (a crash in the renderer, say) is given up.
MAX_ATTEMPTS = 3
ERROR_CHARS = 500  # JobItem.error and Job.error


def start(
    session: Session,
    *,
    kind: str,
    university_id: int | None,
    actor: str,
    item_keys: list[str],
    params: dict | None = None,
) -> Job:
    """A queued job with one pending item per key, worked in the order given."""
    job = Job(
        kind=kind,
        university_id=university_id,
        actor=actor,
        total=len(item_keys),
        params=json.dumps(params or {}),
    )
    session.add(job)
    session.flush()
    if item_keys:
        session.execute(
            insert(JobItem),
            [{"job_id": job.id, "item_key": key, "position": n} for n, key in enumerate(item_keys)],
        )
    return job


def params_of(job: Job) -> dict:
    return json.loads(job.params or "{}")


def lease(session: Session, job_id: int, *, now: datetime, seconds: float, size: int) -> list:
    """Up to size pending items nobody holds (never leased, or the lease ran out), now held
    until now + seconds, each with one more attempt; [] when none is free."""
    _give_up_worn_out(session, job_id, now)
    free = (
        select(JobItem.id)
        .where(
            col(JobItem.job_id) == job_id,
            col(JobItem.state) == PENDING,
            or_(col(JobItem.lease_until).is_(None), col(JobItem.lease_until) < now),
        )
        .order_by(col(JobItem.position))
        .limit(size)
        # PostgreSQL: two workers leasing at once take different rows; SQLite has one writer.
        .with_for_update(skip_locked=True)
    )
    leased = session.execute(
        update(JobItem)
        .where(col(JobItem.id).in_(free.scalar_subquery()))
        .values(lease_until=now + timedelta(seconds=seconds), attempts=JobItem.attempts + 1)
        .returning(col(JobItem.id))
        .execution_options(synchronize_session=False)
    )
    ids = [row[0] for row in leased]
    if not ids:
        return []
    session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state) == QUEUED)
        .values(state=RUNNING, started_at=now)
    )
    return list(
        session.exec(
            select(JobItem)
            .where(col(JobItem.id).in_(ids))
            .order_by(col(JobItem.position))
            .execution_options(populate_existing=True)  # as the UPDATE left them
        )
    )


def _give_up_worn_out(session: Session, job_id: int, now: datetime) -> None:
    session.execute(
        update(JobItem)
        .where(
            col(JobItem.job_id) == job_id,
            col(JobItem.state) == PENDING,
            col(JobItem.attempts) >= MAX_ATTEMPTS,
            col(JobItem.lease_until) < now,
        )
        .values(
            state=FAILED,
            lease_until=None,
            finished_at=now,
            error=error_text(N_("Given up after %(n)s attempts"), {"n": MAX_ATTEMPTS}),
        )
    )


def error_text(message: str, params: dict | None = None) -> str:
    """A message id and its parameters, translated when shown: the reader's language, not the
    worker's. Long parameters are cut so the whole fits the column."""
    params = {k: str(v) for k, v in (params or {}).items()}
    text = json.dumps({"message": message, "params": params}, ensure_ascii=False)
    while len(text) > ERROR_CHARS and params:
        params = {k: v[: len(v) // 2] + "…" for k, v in params.items()}
        text = json.dumps({"message": message, "params": params}, ensure_ascii=False)
    return text[:ERROR_CHARS]


def read_error(text: str | None) -> tuple[str, dict]:
    if not text:
        return "", {}
    try:
        data = json.loads(text)
        return str(data["message"]), dict(data.get("params") or {})
    except (ValueError, KeyError, TypeError):
        return text, {}


def _close_item(session: Session, item_id: int, **values) -> None:
    # Only a pending item: a second worker that did it too (its lease ran out) changes nothing.
    session.execute(
        update(JobItem)
        .where(col(JobItem.id) == item_id, col(JobItem.state) == PENDING)
        .values(lease_until=None, finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )


def mark_done(session: Session, item_id: int, result: str | None = None) -> None:
    _close_item(session, item_id, state=DONE, result=(result or "")[:100] or None)


def mark_failed(session: Session, item_id: int, message: str, params: dict | None = None) -> None:
    _close_item(session, item_id, state=FAILED, error=error_text(message, params))


def release(session: Session, item_id: int) -> None:
    """Give a leased item back at once (it failed in a way that may pass): leased again next."""
    session.execute(
        update(JobItem)
        .where(col(JobItem.id) == item_id, col(JobItem.state) == PENDING)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


def counts(session: Session, job_id: int) -> dict[str, int]:
    rows = session.exec(
        select(JobItem.state, func.count())
        .where(col(JobItem.job_id) == job_id)
        .group_by(col(JobItem.state))
    )
    return {state: n for state, n in rows}


def refresh(session: Session, job_id: int) -> None:
    """Job.done and .failed from a count over the ledger, never lowered: two workers that
    counted at different moments cannot move the bar back, whichever commits last. The job is
    done once no item is pending. Counted inside the UPDATE, so no item can finish between a
    count and the write that records it."""
    done, failed = _count(job_id, DONE), _count(job_id, FAILED)
    session.execute(
        update(Job)
        .where(col(Job.id) == job_id)
        .values(
            done=case((col(Job.done) > done, Job.done), else_=done),
            failed=case((col(Job.failed) > failed, Job.failed), else_=failed),
        )
    )
    pending = select(JobItem.id).where(col(JobItem.job_id) == job_id, col(JobItem.state) == PENDING)
    session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state).in_(UNFINISHED), ~pending.exists())
        .values(state=DONE, finished_at=utcnow())
    )


def _count(job_id: int, state: str):
    return (
        select(func.count())
        .select_from(JobItem)
        .where(col(JobItem.job_id) == job_id, col(JobItem.state) == state)
        .scalar_subquery()
    )


def fail(session: Session, job_id: int, message: str, params: dict | None = None) -> None:
    """The job as a whole cannot go on (its kind is unknown, what it works on is gone)."""
    session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state).in_(UNFINISHED))
        .values(state=FAILED, finished_at=utcnow(), error=error_text(message, params))
    )


def next_expiry(session: Session, job_id: int, now: datetime) -> datetime | None:
    """When the earliest lease another worker holds on this job runs out (None: none held)."""
    return session.exec(
        select(func.min(JobItem.lease_until)).where(
            col(JobItem.job_id) == job_id,
            col(JobItem.state) == PENDING,
            col(JobItem.lease_until) >= now,
        )
    ).one()


def stalled(session: Session, now: datetime) -> list[int]:
    """Unfinished jobs with an item whose lease ran out: its worker died and nobody queued it."""
    rows = session.exec(
        select(col(Job.id))
        .join(JobItem, col(JobItem.job_id) == Job.id)
        .where(
            col(Job.state).in_(UNFINISHED),
            col(JobItem.state) == PENDING,
            col(JobItem.lease_until) < now,
        )
        .distinct()
        .order_by(col(Job.id))
    )
    return [n for n in rows if n is not None]


def unfinished(session: Session) -> list[int]:
    rows = session.exec(
        select(col(Job.id)).where(col(Job.state).in_(UNFINISHED)).order_by(col(Job.id))
    )
    return [n for n in rows if n is not None]


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(N_("No job has this number"))
    return job


def get_visible(session: Session, job_id: int, *, university_id: int | None, admin: bool) -> Job:
    """A job the asker may see: their university's, or any for an administrator. Another
    university's job is answered exactly like a missing one."""
    job = get(session, job_id)
    if not admin and (university_id is None or job.university_id != university_id):
        raise NotFound(N_("No job has this number"))
    return job


def recent(session: Session, *, university_id: int | None, admin: bool, limit: int = 50) -> list:
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if not admin:
        query = query.where(Job.university_id == university_id)
    return list(session.exec(query))


def failed_items(session: Session, job: Job, limit: int = 200) -> list[JobItem]:
    return list(
        session.exec(
            select(JobItem)
            .where(col(JobItem.job_id) == id_of(job), col(JobItem.state) == FAILED)
            .order_by(col(JobItem.position))
            .limit(limit)
        )
    )


def done_items(session: Session, job: Job) -> list[JobItem]:
    return list(
        session.exec(
            select(JobItem)
            .where(col(JobItem.job_id) == id_of(job), col(JobItem.state) == DONE)
            .order_by(col(JobItem.position))
        )
    )
