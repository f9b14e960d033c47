"""Issuing items are idempotent: two jobs over the same completions, a job whose worker died."""

import json
from datetime import timedelta

from sqlmodel import select

from app.audit.models import AuditEvent
from app.certificates import issuing
from app.certificates.models import Certificate
from app.db import id_of, utcnow
from app.jobs import queue as jobs_queue
from app.jobs import runner
from app.jobs import service as jobs
from app.jobs.models import Job, JobItem
from tests.jobs.conftest import upload_completions


def _items(session, job: Job) -> dict[str, str | None]:
    rows = session.exec(select(JobItem).where(JobItem.job_id == job.id)).all()
    for row in rows:
        session.refresh(row)
    return {i.item_key: i.result for i in rows}


def test_two_jobs_over_the_same_completions_issue_each_certificate_once(
    client, session, new_session, settings, course_of_staff
):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三", "李四", "王五"])
    # Two presses at once: both listed the same three completions before either ran.
    first = issuing.start(session, course, actor="user:1")
    second = issuing.start(session, course, actor="user:2")
    session.commit()
    assert first is not None and second is not None
    runner.run(new_session, settings, id_of(first))
    runner.run(new_session, settings, id_of(second))
    certs = session.exec(select(Certificate)).all()
    assert len(certs) == 3
    serials = {str(c.completion_id): c.serial for c in certs}
    assert _items(session, first) == serials == _items(session, second)
    for job in (first, second):
        session.refresh(job)
        assert (job.state, job.done, job.failed) == ("done", 3, 0)
    files = sorted(p.name for p in (settings.data_dir / "certificates").rglob("*.pdf"))
    assert files == sorted(f"{c.serial}.pdf" for c in certs)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.issue")).all()
    assert [(e.actor, e.object_id, json.loads(e.detail)["pending"]) for e in events] == [
        ("user:1", str(course.id), 3),
        ("user:2", str(course.id), 3),
    ]


def test_the_periodic_task_requeues_a_job_whose_worker_died(
    client, session, new_session, settings, course_of_staff
):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三", "李四"])
    job = issuing.start(session, course, actor="user:1")
    assert job is not None
    session.commit()
    # A worker leased everything an hour ago and was never heard of again.
    jobs.lease(session, id_of(job), now=utcnow() - timedelta(hours=1), seconds=60, size=10)
    session.commit()
    queue = jobs_queue.Queue(settings, new_session)  # immediate: a queued task runs at once
    assert queue.requeue_stalled() == 1
    session.refresh(job)
    assert (job.state, job.done) == ("done", 2)
    assert queue.requeue_stalled() == 0  # nothing left to pick up
    assert len(session.exec(select(Certificate)).all()) == 2
