"""The Huey queue, built from Settings: it only carries "work on job N"; the ledger is the record.

SqliteHuey in the data folder by default; on PostgreSQL, PostgresHuey on the app's own database,
in a schema of its own ("huey"), so every machine's workers share one queue and the app's
migrations never see Huey's tables. Tests run tasks at once, in the caller (immediate mode).
"""

import logging
from datetime import timedelta

import psycopg
from huey import Huey, MemoryHuey, PostgresHuey, SqliteHuey, crontab
from sqlalchemy import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.config import Settings
from app.db import id_of, sessions_for, utcnow
from app.jobs import runner, service
from app.retention import job as retention

NAME = "dandelion"
SCHEMA = "huey"
log = logging.getLogger(__name__)


class Queue:
    """A Huey instance and its two tasks, bound to one installation's settings and sessions."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]):
        self.settings, self.sessions = settings, sessions
        self.huey = build_huey(settings)
        self._run = self.huey.task(name="dandelion.jobs.run")(self._run_job)
        # Every minute: jobs whose worker died mid-chunk (SIGKILL, a lost machine) go back in.
        self.huey.periodic_task(crontab(minute="*"), name="dandelion.jobs.requeue")(
            self.requeue_stalled
        )
        # Audit events whose process died between their commit and their seal join the chain.
        self.huey.periodic_task(crontab(minute="*"), name="dandelion.audit.seal")(self.seal_audit)
        # Daily, at night in China (03:30 CST): personal data past its retention period.
        self.huey.periodic_task(crontab(hour="19", minute="30"), name="dandelion.retention")(
            self.start_retention
        )

    def enqueue(self, job_id: int) -> None:
        """After the job's rows are committed: the task reads them from its own session."""
        self._run(job_id)

    def submit(self, job_id: int) -> None:
        """From a request, after the commit: a queue that cannot be reached leaves the job
        queued, and the next worker to start queues it again, so the answer is not a 500."""
        if self.huey.immediate:
            return self.enqueue(job_id)
        try:
            self.enqueue(job_id)
        except Exception:
            log.exception("job %s: could not be queued; the next worker start queues it", job_id)

    def _run_job(self, job_id: int) -> None:
        expiry = runner.run(self.sessions, self.settings, job_id)
        if expiry is not None and not self.huey.immediate:
            # Items another worker holds: look again when its lease runs out, in case it died.
            delay = (expiry - utcnow()) + timedelta(seconds=0.5)
            self._run.schedule((job_id,), delay=max(delay.total_seconds(), 0.5))

    def requeue_stalled(self) -> int:
        with self.sessions() as session:
            stalled = service.stalled(session, utcnow())
        for job_id in stalled:
            self.enqueue(job_id)
        return len(stalled)

    def start_retention(self) -> int | None:
        """The day's retention job (app/retention/job.py), unless another worker started it."""
        with self.sessions() as session:
            started = retention.start_daily(session)
            session.commit()
        if started is None:
            return None
        self.enqueue(id_of(started))
        return started.id

    def seal_audit(self) -> int:
        from app.audit import chain

        with self.sessions() as session:
            return chain.seal(session)

    def requeue_unfinished(self) -> int:
        """At a worker's start: a message may have been taken by a worker that died before it
        leased anything. A second message for a job costs one look at the ledger."""
        with self.sessions() as session:
            unfinished = service.unfinished(session)
        for job_id in unfinished:
            self.enqueue(job_id)
        return len(unfinished)


def build_huey(settings: Settings) -> Huey:
    if settings.jobs_immediate:
        return MemoryHuey(NAME, immediate=True, results=False)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        _create_schema(dsn)
        return PostgresHuey(NAME, dsn=dsn, options=f"-c search_path={SCHEMA}", results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, filename=str(settings.data_dir / "huey.db"), results=False)


def _create_schema(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        except psycopg.errors.UniqueViolation:  # another process created it at the same moment
            pass


def for_worker(settings: Settings) -> Queue:
    return Queue(settings, sessions_for(settings))


def of(app) -> Queue:
    """The web app's queue, built on first use with the app's own sessions."""
    queue = getattr(app.state, "job_queue", None)
    if queue is None:
        queue = app.state.job_queue = Queue(app.state.settings, app.state.sessions)
    return queue
