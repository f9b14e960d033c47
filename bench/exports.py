"""Exports at a year's size: 100,000 completions as XLSX and as CSV, against a naive openpyxl
workbook of the same rows, in one run.

    .venv/bin/python bench/exports.py [--completions 100000]
    DANDELION_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/exports_bench \\
        .venv/bin/python bench/exports.py

The fixture (bench/run.py's rows, Core inserts): --completions trainees, one enrollment and one
completion each (dated in the last 30 days) over 20 universities with 2 courses each, 2,000
companies over Shandong's 16 cities, a certificate for 30% of the completions; ID numbers
really encrypted, so a full-ID export really decrypts them. Each export runs in a child
process of its own, so its peak RSS is its own: the job as a worker runs it (service.start,
as the request does, then app.jobs.runner.run over the ledger: parts of 5,000 rows, then the
file, encrypted into the data folder). The baseline, in a child too: the same rows read in one
query (exports.tables.completion_rows), then written the naive way, openpyxl's ordinary
Workbook with ws.append per row and save. Prints seconds, rows/s, file size and peak RSS;
asserts nothing.
"""

import argparse
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import run  # noqa: E402  (bench/run.py: databases, rows, the machine)
from sqlalchemy import insert  # noqa: E402

from app.certificates.models import Certificate  # noqa: E402
from app.certificates.serials import new_serial  # noqa: E402
from app.companies.models import Company  # noqa: E402
from app.completions.models import Completion  # noqa: E402
from app.config import Settings  # noqa: E402
from app.courses.models import Course  # noqa: E402
from app.db import make_engine, session_factory, utcnow  # noqa: E402
from app.enrollments.models import Enrollment  # noqa: E402
from app.security import keys_for  # noqa: E402
from app.trainees.models import Trainee  # noqa: E402
from app.trainees.validators import fake_id_number  # noqa: E402
from app.universities.models import University  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UNIVERSITIES, COMPANIES, CERTIFIED = 20, 2_000, 0.3
START, END = run.TODAY - timedelta(days=40), run.TODAY


def setup(engine, n: int, secret: str) -> float:
    """The rows, inserted with Core in chunks of 10,000; returns the seconds it took."""
    keys, rng = keys_for(secret), random.Random(9)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(University),
            [
                {
                    "id": u,
                    "code": f"U{u:03d}",
                    "name": f"山东第{u}高校",
                    "city_code": run.CITIES[u % 16],
                    "created_at": utcnow(),
                }
                for u in range(1, UNIVERSITIES + 1)
            ],
        )
        courses = [run.course_row(u, k) for u in range(1, UNIVERSITIES + 1) for k in (1, 2)]
        conn.execute(insert(Course), courses)
        conn.execute(insert(Company), run.company_rows(COMPANIES, rng))
        seen: set[str] = set()
        for start in range(0, n, 10_000):
            trainees, enrollments, completions, certificates = [], [], [], []
            for i in range(start + 1, min(n, start + 10_000) + 1):
                number = fake_id_number(rng)
                while number in seen:
                    number = fake_id_number(rng)
                seen.add(number)
                trainees.append(run.trainee_row(i, number, rng, keys, encrypt=True))
                course = courses[i % len(courses)]
                enrollment = run.enrollment_row(i, i, course["id"], rng.randint(1, COMPANIES))
                enrollments.append(enrollment)
                completion = run.completion_row(enrollment, course["university_id"], rng)
                completions.append({**completion, "id": i})
                if rng.random() < CERTIFIED:
                    certificates.append(_certificate(completion, i, course, rng))
            for model, rows in (
                (Trainee, trainees),
                (Enrollment, enrollments),
                (Completion, completions),
                (Certificate, certificates),
            ):
                conn.execute(insert(model), rows)
    return time.perf_counter() - started


def _certificate(completion: dict, i: int, course: dict, rng: random.Random) -> dict:
    return {
        "serial": new_serial(run.TODAY.year, rng),
        "completion_id": i,
        "university_id": course["university_id"],
        "course_id": course["id"],
        "status": "issued",
        "holder_name": "张三",
        "course_code": course["code"],
        "course_title": course["title"],
        "university_name": f"山东第{course['university_id']}高校",
        "hours": Decimal(32),
        "completed_on": completion["completed_on"],
        "issued_on": run.TODAY,
        "issued_at": utcnow(),
        "key_id": "bench",
        "signature": "placeholder",
        "pdf_path": "placeholder.pdf",
        "pdf_sha256": "0" * 64,
    }


# --- one measurement, in a child process of its own ------------------------------------------


def _settings(args) -> Settings:
    return Settings(
        environment="test",
        data_dir=Path(args.data_dir),
        database_url=args.url,
        secret_key=run.SECRET,
        jobs_immediate=True,
        _env_file=None,
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child_export(args) -> dict:
    """The export as the app runs it: the request's start, then a worker's run of the job."""
    from app.exports import service
    from app.exports.models import ExportCreate
    from app.jobs import runner
    from app.jobs import service as jobs
    from app.jobs.models import Job

    settings = _settings(args)
    sessions = session_factory(make_engine(settings.database_url), keys_for(run.SECRET))
    data = ExportCreate(
        kind="completions", format=args.format, date_from=START, date_to=END, full_ids=args.full
    )
    before = _rss_mb()
    started = time.perf_counter()
    with sessions() as session:
        job = service.start(session, data, service.Asker("bench", None, True), language="zh")
        session.commit()
        job_id = job.id
    assert job_id is not None
    runner.run(sessions, settings, job_id)
    seconds = time.perf_counter() - started
    with sessions() as session:
        done = session.get_one(Job, job_id)
        path = settings.data_dir / (done.result_path or "missing")
        plain = len(keys_for(run.SECRET).decrypt_bytes(path.read_bytes()))
        rows = int(jobs.params_of(done)["rows"])
        state = f"{done.state}, {done.done}/{done.total} items"
    return {
        "seconds": seconds,
        "rows": rows,
        "bytes": plain,
        "stored": path.stat().st_size,
        "rss": _rss_mb(),
        "rss_before": before,
        "note": state,
    }


def child_naive(args) -> dict:
    """The same rows in one query, then openpyxl's ordinary workbook, cell by cell in memory."""
    from openpyxl import Workbook

    from app.exports import tables

    settings = _settings(args)
    sessions = session_factory(make_engine(settings.database_url), keys_for(run.SECRET))
    before = _rss_mb()
    started = time.perf_counter()
    with sessions() as session:
        ids = tables.completion_ids(session, date_from=START, date_to=END, university_id=None)
        rows = tables.completion_rows(
            session,
            first_id=ids[0],
            last_id=ids[-1],
            date_from=START,
            date_to=END,
            university_id=None,
            full_ids=args.full,
        )
        header = tables.completion_header()
    read_s = time.perf_counter() - started
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([v.isoformat() if isinstance(v, date) else v for v in row])
    out = io.BytesIO()
    workbook.save(out)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(rows),
        "bytes": len(out.getvalue()),
        "stored": len(out.getvalue()),
        "rss": _rss_mb(),
        "rss_before": before,
        "note": f"of which reading the rows {read_s:.1f} s; Decimal and str cells as given",
    }


def measure(settings: Settings, what: str, fmt: str, full: bool) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        what,
        "--format",
        fmt,
        "--url",
        settings.database_url,
        "--data-dir",
        str(settings.data_dir),
    ] + (["--full"] if full else [])
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{what} {fmt} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, backend: str, m: dict) -> str:
    rate = m["rows"] / m["seconds"] if m["seconds"] else 0
    return (
        f"{name:<44} {backend:<10} {m['rows']:>8,} {m['seconds']:>8.2f} s {rate:>9,.0f}/s "
        f"{m['bytes'] / 2**20:>7.1f} MB {m['rss']:>7.0f} MB  "
        f"(RSS {m['rss_before']:.0f} MB before; stored {m['stored'] / 2**20:.1f} MB) {m['note']}"
    )


def bench(backend: str, n: int) -> list[str]:
    settings = run.fresh_settings(backend, "exports")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    print(f"{backend}: inserting {n:,} completions...", file=sys.stderr, flush=True)
    seconds = setup(engine, n, settings.secret_key)
    engine.dispose()
    lines = [f"{'setup: Core inserts, IDs encrypted':<44} {backend:<10} {n:>8,} {seconds:>8.2f} s"]
    for name, what, fmt, full in (
        ("export job: XLSX, masked", "export", "xlsx", False),
        ("export job: CSV, masked", "export", "csv", False),
        ("export job: XLSX, full ID numbers", "export", "xlsx", True),
        ("export job: CSV, full ID numbers", "export", "csv", True),
        ("baseline: naive openpyxl Workbook, masked", "naive", "xlsx", False),
    ):
        print(f"{backend}: {name}...", file=sys.stderr, flush=True)
        lines.append(report(name, backend, measure(settings, what, fmt, full)))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=100_000)
    parser.add_argument("--child", choices=("export", "naive"))
    parser.add_argument("--format", default="xlsx")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    if args.child:
        shutil.rmtree(run.TMP, ignore_errors=True)  # the child's own, unused
        found = child_export(args) if args.child == "export" else child_naive(args)
        print(json.dumps(found))
        return
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DANDELION_BENCH_POSTGRES") else [])
    try:
        print("\n".join(run.machine(backends)), end="\n\n", flush=True)
        head = f"{'benchmark':<44} {'db':<10} {'rows':>8} {'time':>10} {'rate':>11} "
        lines = [head + f"{'file':>10} {'peak RSS':>10}", "-" * 110]
        for backend in backends:
            lines += bench(backend, args.completions)
        print("\n".join(lines))
        print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(run.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
