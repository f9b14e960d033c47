"""100,000-row completion uploads end to end, against the ORM-per-row baseline, with 10,000
rows beside them to show how the cost grows.

    python bench/large_uploads.py [--sizes 10000 100000]
    DANDELION_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/dandelion_bench python bench/large_uploads.py

Each upload is one POST /api/v1/completions (classify and write in the request: the
background-job threshold is set past the sizes) with a university API token, on a fresh
database holding the trainees and their enrollments, exactly as the app leaves it: no
ANALYZE, no VACUUM, no warm-up. Prints seconds, rows a second, the server's peak RSS during
the request (this process: the TestClient runs the app in it; VmHWM reset before each) and
the calamine child's. Prints figures, asserts nothing.
"""

import argparse
import io
import os
import random
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402
import run  # noqa: E402  (bench/run.py: databases, the fixture rows, the baselines)
from sqlmodel import Session  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.security import keys_for  # noqa: E402
from tests.files import CHINESE_HEADER  # noqa: E402

GOALS = {"sqlite": 3.0, "postgresql": 5.0}


def peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def xlsx_of(course, people) -> bytes:
    """As our template fills in: the ID column text, the date a date cell."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(CHINESE_HEADER)
    for i, (name, number, _) in enumerate(people):
        done = run.TODAY - run.timedelta(days=i % 30)
        sheet.append([name, number, course.code, done, 60 + i % 41])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(backend: str, n: int, fmt: str) -> list:
    settings = run.fresh_settings(backend, f"large-{fmt}-{n}")
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        course, people = run.upload_setup(session, n, keys_for(settings.secret_key))
        _, secret = run.auth.create_token(
            session, name="bench", role="university", university_id=course.university_id
        )
        session.commit()
    engine.dispose()
    data = run.completion_csv(course, people) if fmt == "csv" else xlsx_of(course, people)
    settings = settings.model_copy(update={"upload_job_rows": 10**9})
    application = create_app(settings)
    with run.client_of(application) as client:
        reset_peak()
        seconds, response = run.timed(
            lambda: client.post(
                "/api/v1/completions",
                headers={"Authorization": f"Bearer {secret}"},
                files={"file": (f"completions.{fmt}", data)},
            )
        )
        peak = peak_mb()
    application.state.engine.dispose()
    if response.status_code != 200:
        raise SystemExit(f"upload failed: {response.status_code} {response.text[:500]}")
    body = response.json()
    note = (
        f"accepted {body['accepted']:,}, {len(data) >> 10:,} KiB, server peak {peak:.0f} MB"
        f" (goal {GOALS[backend]:.0f} s, 500 MB)"
    )
    return [run.Result(f"upload {fmt.upper()} over HTTP, new rows", backend, n, seconds, note)]


def baseline(backend: str, n: int) -> list:
    settings = run.fresh_settings(backend, f"baseline-{n}")
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        course, people = run.upload_setup(session, n, keys_for(settings.secret_key))
        rows = [
            run.completion_row(e, course.university_id, random.Random(i))
            for i, (_, _, e) in enumerate(people)
        ]
        seconds = run.insert_then_delete(session, lambda: run.orm_insert(session, rows))
    engine.dispose()
    note = "insert + commit of rows worked out already, single run"
    return [run.Result("baseline: ORM session.add per completion", backend, n, seconds, note)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    sizes = parser.parse_args().sizes
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DANDELION_BENCH_POSTGRES") else [])
    print("\n".join(run.machine(backends)), end="\n\n", flush=True)
    results = []
    try:
        for backend in backends:
            for n in sizes:
                print(f"{backend}, {n:,} rows...", file=sys.stderr, flush=True)
                results += baseline(backend, n)
                results += upload(backend, n, "csv")
                results += upload(backend, n, "xlsx")
    finally:
        run.shutil.rmtree(run.TMP, ignore_errors=True)
    print("\n".join(run.table(results)))
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nlargest child process (the calamine reader among them): peak RSS {child:.0f} MB")
    print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
