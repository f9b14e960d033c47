"""The job machinery's figures: issuing as a job with real workers, and the ledger's own cost.

    python bench/jobs.py [--certificates 500] [--items 10000] [--processes 2]

a. Issuing N certificates as one job on SQLite, end to end: the job is queued, `dandelion worker`
   processes (already started and waiting) print, store and mark every item; the clock stops when
   the job's row says done. Certificates a second, and the time to the first finished chunk.
b. The ledger alone: a kind whose items do nothing, over M items, run by the same runner a worker
   uses (lease a chunk, one transaction an item, recount per chunk). Its time per item is what the
   machinery adds to every item of every job.

Prints figures and never asserts timing. Works in a temporary folder that it removes.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, from anywhere

from sqlalchemy import insert

from app.certificates import issuing
from app.completions.models import Completion
from app.config import Settings
from app.db import sessions_for
from app.jobs import queue as jobs_queue
from app.jobs import registry, runner
from app.jobs import service as jobs
from app.jobs.models import Job
from app.security import keys_for
from app.universities import service as universities
from app.universities.models import UniversityCreate
from bench.run import TMP, completion_row, fresh_settings, upload_setup

ROOT = Path(__file__).resolve().parents[1]


def environment_of(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
    return {
        **env,
        "DANDELION_ENVIRONMENT": "development",
        "DANDELION_DATA_DIR": str(settings.data_dir),
        "DANDELION_DATABASE_URL": settings.database_url,
        "DANDELION_SECRET_KEY": settings.secret_key,
        "DANDELION_PUBLIC_URL": "https://dandelion.example.cn",
    }


def start_workers(settings: Settings, processes: int) -> list[subprocess.Popen]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--threads", "1"],
            cwd=ROOT,
            env=environment_of(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for worker in workers:  # each says so once it waits for work
        for line in worker.stderr or []:
            if "worker started" in line:
                break
    return workers


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(30)


def wait_for(sessions, job_id: int, started: float) -> tuple[Job, float | None, float]:
    """Poll the job as its page does until it ends: the row, the seconds to its first done
    item and to its end, both from `started`."""
    first = None
    while True:
        with sessions() as session:
            row = session.get_one(Job, job_id)
        if first is None and row.done:
            first = time.perf_counter() - started
        if row.state in ("done", "failed"):
            return row, first, time.perf_counter() - started
        time.sleep(0.05)


def bench_issue(n: int, processes: int) -> list[str]:
    settings = fresh_settings("sqlite", "jobs-issue")
    sessions = sessions_for(settings)
    with sessions() as session:
        course, people = upload_setup(session, n, keys_for(settings.secret_key))
        rng = random.Random(2)
        rows = [completion_row(e, course.university_id, rng) for _, _, e in people]
        session.execute(insert(Completion), rows)
        session.commit()
    workers = start_workers(settings, processes)
    try:
        queue = jobs_queue.Queue(settings, sessions)
        started = time.perf_counter()
        with sessions() as session:
            job = issuing.start(session, session.merge(course), actor="bench")
            assert job is not None
            session.commit()
            job_id = job.id
        queue.enqueue(job_id)
        row, first, elapsed = wait_for(sessions, job_id, started)
    finally:
        stop(workers)
    sizes = sorted(p.stat().st_size for p in (settings.data_dir / "certificates").rglob("*.pdf"))
    return [
        f"a. issuing {n} certificates as one job, {processes} worker processes, SQLite:",
        f"   {elapsed:.1f} s end to end, {row.done / elapsed:.1f} certificates/s "
        f"(done {row.done}, failed {row.failed}); first progress after {first or 0:.1f} s",
        f"   median PDF {sizes[len(sizes) // 2] / 1024:.0f} KB" if sizes else "   no PDF",
    ]


def bench_ledger(m: int, chunk: int) -> list[str]:
    settings = fresh_settings("sqlite", "jobs-ledger").model_copy(update={"job_chunk": chunk})
    registry.register(registry.Kind(name="bench.noop", label="bench.noop", do_item=lambda _: None))
    sessions = sessions_for(settings)
    with sessions() as session:
        university = universities.create(
            session,
            UniversityCreate(code="BENCHL", name="山东纺织职业学院", city_code="3701"),
            actor="bench",
        )
        t0 = time.perf_counter()
        job = jobs.start(
            session,
            kind="bench.noop",
            university_id=university.id,
            actor="bench",
            item_keys=[str(i) for i in range(m)],
        )
        session.commit()
        job_id = job.id
        created = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert job_id is not None
    runner.run(sessions, settings, job_id)
    elapsed = time.perf_counter() - t0
    with sessions() as session:
        row = session.get_one(Job, job_id)
    return [
        f"b. the ledger alone: {m} no-op items in chunks of {chunk}, SQLite, one worker:",
        f"   starting the job (inserting its items) {created * 1000:.0f} ms; running it "
        f"{elapsed:.1f} s, {elapsed / m * 1000:.2f} ms an item ({row.state}, done {row.done})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=500)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for a.")
    args = parser.parse_args()
    try:
        print("\n".join(bench_ledger(args.items, 10)), flush=True)
        print("\n".join(bench_issue(args.certificates, args.processes)), flush=True)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
