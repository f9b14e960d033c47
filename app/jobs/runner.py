"""One worker's turn at a job: lease a chunk, do each item in its own transaction, count."""

import logging
import time
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.config import Settings
from app.db import utcnow
from app.i18n import N_
from app.jobs import registry, service
from app.jobs.models import Job, JobItem

log = logging.getLogger(__name__)
TRANSIENT_TRIES = 5


def run(sessions: sessionmaker[Session], settings: Settings, job_id: int) -> datetime | None:
    """Work the job until no item is free to lease; returns when the leases other workers
    still hold run out (the caller looks again then), or None when nothing is held."""
    with sessions() as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in service.UNFINISHED:
            return None  # a stale message: the ledger says there is nothing to do
        kind = registry.get(job.kind)
        if kind is None:
            service.fail(
                session, job_id, N_("This kind of job is unknown: %(kind)s"), {"kind": job.kind}
            )
            session.commit()
            return None
    while True:
        with sessions() as session:
            items = service.lease(
                session,
                job_id,
                now=utcnow(),
                seconds=settings.job_lease_seconds,
                size=settings.job_chunk,
            )
            session.commit()
        if not items:
            break
        ahead = _ahead(sessions, settings, kind, job, items)
        for item in items:
            _do(sessions, settings, kind, job, item, ahead.get(item.item_key))
        with sessions() as session:
            service.refresh(session, job_id)
            session.commit()
    with sessions() as session:
        service.refresh(session, job_id)
        expiry = service.next_expiry(session, job_id, utcnow())
        session.commit()
    return expiry


def _ahead(sessions, settings: Settings, kind: registry.Kind, job: Job, items: list) -> dict:
    if kind.ahead is None:
        return {}
    try:
        with sessions() as session:
            return kind.ahead(session, settings, [item.item_key for item in items])
    except Exception:  # only a head start: each item still does its own work
        log.exception("job %s: the chunk's work ahead failed; items go one by one", job.id)
        return {}


def _do(
    sessions, settings: Settings, kind: registry.Kind, job: Job, item: JobItem, ahead=None
) -> None:
    for _ in range(TRANSIENT_TRIES):
        try:
            return _do_once(sessions, settings, kind, job, item, ahead=ahead)
        except OperationalError:
            ahead = None  # used once: a second try does its own work
            # A lock wait that timed out under load (SQLite's busy timeout, a PostgreSQL
            # deadlock or serialization failure): the item is idempotent, do it again.
            log.warning("job %s: item %s met a database conflict; again", job.id, item.item_key)
            time.sleep(0.05)
    _do_once(sessions, settings, kind, job, item, last=True)


def _do_once(
    sessions, settings, kind, job: Job, item: JobItem, last: bool = False, ahead=None
) -> None:
    item_id = item.id
    assert item_id is not None  # read from the table
    with sessions() as session:
        try:
            result = kind.do_item(registry.Item(session, settings, job, item.item_key, ahead))
            service.mark_done(session, item_id, result)
            session.commit()
            return
        except registry.ItemRefused as exc:
            session.rollback()
            service.mark_failed(session, item_id, exc.message, exc.params)
        except OperationalError:
            if not last:
                raise
            log.exception("job %s: item %s failed", job.id, item.item_key)
            session.rollback()
            service.release(session, item_id)
        except Exception:
            # A bug or a fault that may pass: tried again, up to MAX_ATTEMPTS leases.
            log.exception("job %s: item %s failed", job.id, item.item_key)
            session.rollback()
            if item.attempts >= service.MAX_ATTEMPTS:
                service.mark_failed(session, item_id, N_("Something went wrong with this item"))
            else:
                service.release(session, item_id)
        session.commit()
