"""A real consumer process: killed with SIGKILL halfway through issuing, the next worker
finishes the job with one certificate per completion, no file left over, progress never back."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from app import clock
from app.certificates import issuing
from app.certificates.models import Certificate
from app.jobs import queue as jobs_queue
from app.jobs.models import Job, JobItem
from tests.conftest import environment_of
from tests.jobs.conftest import upload_completions

ROOT = Path(__file__).resolve().parents[2]
N = 30
LEASE = 3  # seconds: the killed worker's chunk is free again this soon


def _worker(settings) -> subprocess.Popen:
    env = {
        **environment_of(settings),
        "DANDELION_JOB_LEASE_SECONDS": str(LEASE),
        "DANDELION_JOB_CHUNK": "3",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _watch(new_session, job_id: int, seen: list, until, timeout: float, worker) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with new_session() as s:
            job = s.get_one(Job, job_id)
        seen.append(job.done + job.failed)
        if until(job):
            return job
        assert worker.poll() is None, worker.stderr.read().decode()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job}")


def test_a_worker_killed_halfway_leaves_the_rest_to_the_next_one(
    client, session, new_session, settings, course_of_staff
):
    course = course_of_staff["course"]
    upload_completions(client, session, course, [f"学员{chr(0x4E00 + n)}" for n in range(N)])
    # The test's own queue: the worker's storage, not immediate mode.
    queue = jobs_queue.Queue(settings.model_copy(update={"jobs_immediate": False}), new_session)
    queue.huey.flush()  # nothing another test left in a shared PostgreSQL queue
    job = issuing.start(session, course, actor="test")
    assert job is not None
    session.commit()
    # One completion got its certificate after the job was listed, as from a worker that died
    # right after its commit: the job must find it, not print a second one.
    first_item = session.exec(select(JobItem).where(JobItem.job_id == job.id)).first()
    early = issuing.issue_one(
        session,
        int(first_item.item_key),
        public_url=settings.public_url,
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    queue.enqueue(job.id)
    seen: list[int] = []

    first = _worker(settings)
    try:
        _watch(new_session, job.id, seen, lambda j: j.done >= 8, 180, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with new_session() as s:
        at_kill = s.get_one(Job, job.id)
    assert at_kill.state == "running" and at_kill.done < N  # killed in the middle

    second = _worker(settings)
    try:
        done = _watch(new_session, job.id, seen, lambda j: j.state == "done", 180, second)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    assert seen == sorted(seen), "progress went backwards"
    assert (done.done, done.failed, done.total) == (N, 0, N)
    with new_session() as s:
        certs = s.exec(select(Certificate).where(Certificate.course_id == course.id)).all()
        items = s.exec(select(JobItem).where(JobItem.job_id == job.id)).all()
    assert len(certs) == N and len({c.completion_id for c in certs}) == N
    assert {i.item_key: i.result for i in items} == {str(c.completion_id): c.serial for c in certs}
    assert early in {c.serial for c in certs}
    files = sorted(p.name for p in (settings.data_dir / "certificates").rglob("*.pdf"))
    assert files == sorted(f"{c.serial}.pdf" for c in certs)  # no orphan, no temporary file
