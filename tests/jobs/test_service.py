"""The job ledger: items leased in order and in chunks, leases that run out, progress counted."""

from datetime import timedelta

from sqlmodel import select

from app.db import id_of, utcnow
from app.jobs import service
from app.jobs.models import Job, JobItem
from tests.factories import make_university


def _job(session, n: int = 5) -> Job:
    job = service.start(
        session,
        kind="test.kind",
        university_id=id_of(make_university(session)),
        actor="test",
        item_keys=[f"k{i}" for i in range(n)],
        params={"x": 1},
    )
    session.commit()
    return job


def test_a_job_has_one_pending_item_per_key_in_order(session):
    job = _job(session, 4)
    items = session.exec(select(JobItem).where(JobItem.job_id == job.id)).all()
    assert sorted((i.position, i.item_key, i.state) for i in items) == [
        (0, "k0", "pending"),
        (1, "k1", "pending"),
        (2, "k2", "pending"),
        (3, "k3", "pending"),
    ]
    assert (job.state, job.total, job.done, job.failed) == ("queued", 4, 0, 0)
    assert service.params_of(job) == {"x": 1}


def test_chunks_are_leased_in_order_and_never_twice_while_held(session, new_session):
    job, now = _job(session, 5), utcnow()
    first = service.lease(session, id_of(job), now=now, seconds=60, size=2)
    session.commit()
    with new_session() as other:  # another worker, its own connection
        second = service.lease(other, id_of(job), now=now, seconds=60, size=2)
        other.commit()
    assert [i.item_key for i in first] == ["k0", "k1"]
    assert [i.item_key for i in second] == ["k2", "k3"]
    assert all(i.attempts == 1 and i.lease_until is not None for i in first + second)
    session.refresh(job)
    assert job.state == "running" and job.started_at is not None


def test_an_expired_lease_is_leased_again_with_one_more_attempt(session):
    job, now = _job(session, 2), utcnow()
    service.lease(session, id_of(job), now=now, seconds=5, size=1)
    session.commit()
    assert (
        service.lease(session, id_of(job), now=now + timedelta(seconds=1), seconds=5, size=1)[
            0
        ].item_key
        == "k1"
    )
    assert service.stalled(session, now + timedelta(seconds=2)) == []
    later = now + timedelta(seconds=7)
    assert service.stalled(session, later) == [job.id]  # its worker died: the periodic task sees it
    again = service.lease(session, id_of(job), now=later, seconds=5, size=5)
    assert [(i.item_key, i.attempts) for i in again] == [("k0", 2), ("k1", 2)]


def test_progress_is_counted_over_the_ledger_and_never_goes_back(session):
    job, now = _job(session, 3), utcnow()
    a, b, c = service.lease(session, id_of(job), now=now, seconds=60, size=3)
    service.mark_done(session, id_of(a), "S1")
    service.mark_failed(session, id_of(b), "Reason %(x)s", {"x": "y"})
    service.refresh(session, id_of(job))
    session.commit()
    session.refresh(job)
    assert (job.done, job.failed, job.state) == (1, 1, "running")
    # A worker that counted before the others committed cannot lower what is shown.
    job.done = 2
    session.add(job)
    session.commit()
    service.refresh(session, id_of(job))
    session.commit()
    session.refresh(job)
    assert job.done == 2
    service.mark_done(session, id_of(c), "S3")
    service.mark_done(session, id_of(a), "again")  # done once: a second worker changes nothing
    service.refresh(session, id_of(job))
    session.commit()
    session.refresh(job)
    assert (job.state, job.failed) == ("done", 1) and job.finished_at is not None
    for item in (a, b):
        session.refresh(item)
    assert (a.state, a.result) == ("done", "S1")
    assert service.read_error(b.error) == ("Reason %(x)s", {"x": "y"})


def test_an_item_whose_worker_keeps_dying_is_given_up(session):
    job, now = _job(session, 1), utcnow()
    for n in range(service.MAX_ATTEMPTS):
        leased = service.lease(
            session, id_of(job), now=now + timedelta(seconds=10 * n), seconds=5, size=1
        )
        assert leased and leased[0].attempts == n + 1
    after = now + timedelta(seconds=10 * service.MAX_ATTEMPTS)
    assert service.lease(session, id_of(job), now=after, seconds=5, size=1) == []
    service.refresh(session, id_of(job))
    session.commit()
    session.refresh(job)
    assert (job.state, job.failed) == ("done", 1)


def test_a_long_reason_is_cut_to_fit_and_still_reads(session):
    text = service.error_text("Cannot print %(chars)s", {"chars": "䶮" * 2000})
    assert len(text) <= service.ERROR_CHARS
    message, params = service.read_error(text)
    assert message == "Cannot print %(chars)s" and params["chars"].startswith("䶮")
