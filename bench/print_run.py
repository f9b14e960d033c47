"""Print runs end to end: 500 and 1,000 certificates as one merged PDF, through the job and a
real `dandelion worker` process, on SQLite.

    python bench/print_run.py [--sizes 500 1000] [--processes 1]

The course's certificates are inserted as rows (a print run prints afresh from the records and
never reads the stored PDFs). The worker is started and waiting; the clock runs from the press
(the job queued) to the job's row saying done, the file in place. Printed: pages a second end to
end, the time to the first progress, the file's size, and the peak resident memory (VmHWM) of
the worker process and of each of its renderer processes. The first run includes the renderer
processes' start (fonts loaded), as the first print after a worker starts does.

Prints figures and never asserts timing. Works in a temporary folder that it removes.
"""

import argparse
import random
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, from anywhere

from sqlalchemy import insert
from sqlmodel import col, select

from app.certificates import printing, serials, service
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.db import sessions_for
from app.jobs import queue as jobs_queue
from app.security import keys_for
from bench.jobs import start_workers, stop, wait_for
from bench.run import TMP, TODAY, completion_row, fresh_settings, upload_setup


def certified_course(settings, n: int):
    """A course of n completions, each with its issued certificate's row."""
    sessions = sessions_for(settings)
    keys = keys_for(settings.secret_key)
    with sessions() as session:
        course, people = upload_setup(session, n, keys)
        rng = random.Random(3)
        session.execute(
            insert(Completion), [completion_row(e, course.university_id, rng) for *_, e in people]
        )
        session.commit()
        completions = session.exec(select(Completion).order_by(col(Completion.id))).all()
        for completion, (name, _id_number, _e) in zip(completions, people, strict=True):
            cert = Certificate(
                serial=serials.new_serial(TODAY.year),
                completion_id=completion.id,
                university_id=course.university_id,
                course_id=course.id,
                holder_name=name,
                course_code=course.code,
                course_title=course.title,
                university_name="山东纺织大学",
                hours=Decimal(completion.hours),
                completed_on=completion.completed_on,
                issued_on=TODAY,
                key_id=keys.key_id,
                signature="",
                pdf_path="certificates/not-read.pdf",
                pdf_sha256="0" * 64,
            )
            cert.signature = service.sign(cert, keys)
            session.add(cert)
        session.commit()
        session.refresh(course)
        session.expunge(course)
    return sessions, course


def peak_rss_mb(pid: int) -> tuple[float, list[float]]:
    """VmHWM of the process and of each of its children, in MB (Linux /proc)."""

    def hwm(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(hwm(int(stat.parent.name)))
        except (OSError, ValueError, IndexError):
            continue
    return hwm(pid), sorted(children, reverse=True)


def print_run(sessions, settings, course, serials_given, queue) -> dict:
    started = time.perf_counter()
    with sessions() as session:
        selection = printing.select_certificates(session, course, serials_given=serials_given)
        job = printing.start(session, course, selection, actor="bench", scope={"scope": "bench"})
        session.commit()
        job_id = job.id
    queue.enqueue(job_id)
    row, first, elapsed = wait_for(sessions, job_id, started)
    path = settings.data_dir / (row.result_path or "missing")
    return {
        "pages": len(selection.certificates),
        "elapsed": elapsed,
        "first": first or 0.0,
        "state": row.state,
        "failed": row.failed,
        "size": path.stat().st_size if path.exists() else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--processes", type=int, default=1, help="worker processes")
    args = parser.parse_args()
    try:
        settings = fresh_settings("sqlite", "print-run")
        sessions, course = certified_course(settings, max(args.sizes))
        with sessions() as session:
            every = [
                c.serial
                for c in session.exec(
                    select(Certificate)
                    .where(Certificate.course_id == course.id)
                    .order_by(col(Certificate.id))
                )
            ]
        workers = start_workers(settings, args.processes)
        try:
            queue = jobs_queue.Queue(settings, sessions)
            print(
                f"print runs through the job, {args.processes} worker process(es) with their "
                f"renderer processes, SQLite ({printing.PART} certificates a part):",
                flush=True,
            )
            for n in args.sizes:
                r = print_run(sessions, settings, course, every[:n], queue)
                print(
                    f"  {r['pages']} certificates: {r['elapsed']:.1f} s end to end, "
                    f"{r['pages'] / r['elapsed']:.1f} pages/s ({r['state']}, failed "
                    f"{r['failed']}); first progress after {r['first']:.1f} s; file "
                    f"{r['size'] / 2**20:.1f} MB ({r['size'] / max(r['pages'], 1) / 1024:.0f} KB "
                    "a page)",
                    flush=True,
                )
            for worker in workers:
                own, children = peak_rss_mb(worker.pid)
                shown = ", ".join(f"{mb:.0f}" for mb in children) or "none"
                print(f"  peak RSS: worker {own:.0f} MB; its renderer processes {shown} MB")
        finally:
            stop(workers)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
