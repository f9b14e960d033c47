"""Enrollment under a crowd: 16 clients at once through a real server, beside a bare app.

The server is `dandelion serve` in a child process, as users meet it (one worker, SQLite in
WAL mode, or PostgreSQL when DANDELION_BENCH_POSTGRES names an empty database). Beside it, in
the same run, bench/bare_app.py in its own uvicorn process (one worker) on a database of the
same kind: one endpoint that validates a similar pydantic body and inserts one row, and one
bare Jinja2 page. That is the yardstick: what FastAPI itself costs for the same work on this
machine at this moment.

Every enrollment attempt writes throttle events (per address and ID number, per address and
course, per address) before the enrollment; each client sends X-Forwarded-For with its own
address, as a proxy in front would. Rows, each with its bare counterpart just before it:

    POST /api/v1/enrollments   against POST /bare/enrollments   (a new ID number each)
    GET /courses               against GET /bare/page
    GET /                      against GET /bare/page

Printed: requests a second, p50 and p99 latency, statuses, and the ratio of throughputs.
Nothing is warmed up or analyzed first: the app meets the database as it leaves it.

    .venv/bin/python bench/enroll_concurrency.py [--requests 400] [--clients 16]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import Figures, free_port, load, start_app, wait  # noqa: E402

GOAL_RATIO, GOAL_P99_MS = 0.6, 60.0


def _seed(env: dict) -> tuple[str, str]:
    """One course with room for every request, a dozen others over six universities (what the
    catalog and the home page show), one company."""
    os.environ.update(env)
    from sqlmodel import Session

    from app import migrate
    from app.config import get_settings
    from app.db import make_engine
    from tests.factories import make_company, make_course, make_university

    get_settings.cache_clear()
    url = get_settings().database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        course = make_course(session, make_university(session), capacity=100_000)
        for _ in range(6):
            university = make_university(session)
            for _ in range(2):
                make_course(session, university, capacity=40)
        code, uscc = course.code, make_company(session).uscc
    engine.dispose()
    return code, uscc


def _start_bare(env: dict, port: int, database_url: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port)],
        cwd=ROOT,
        env={**env, "BARE_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait(server, f"http://127.0.0.1:{port}/bare/page")


def _print(label: str, figures: Figures, bare: Figures | None = None) -> None:
    line = (
        f"{label:<28} {figures.per_second:7.1f} req/s   p50 {figures.p50_ms:6.1f} ms"
        f"   p99 {figures.p99_ms:7.1f} ms"
    )
    if bare is not None:
        ratio = figures.per_second / bare.per_second
        met = ratio >= GOAL_RATIO and figures.p99_ms <= GOAL_P99_MS
        line += f"   {ratio:5.2f}x bare  {'goal met' if met else 'goal NOT met'}"
    print(f"{line}   {figures.statuses}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    from app.trainees.validators import fake_id_number

    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
        env.update(
            DANDELION_ENVIRONMENT="test",
            DANDELION_DATA_DIR=data_dir,
            DANDELION_SECRET_KEY="b" * 48,
            DANDELION_FORWARDED_ALLOW_IPS="127.0.0.1",
        )
        postgres = os.environ.get("DANDELION_BENCH_POSTGRES", "")
        if postgres:
            env["DANDELION_DATABASE_URL"] = postgres
        code, uscc = _seed(env)
        port, bare_port = free_port(), free_port()
        env["DANDELION_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = start_app(env, port)
        bare = _start_bare(env, bare_port, postgres or f"sqlite:///{data_dir}/bare.db")
        print(
            f"{'PostgreSQL' if postgres else 'SQLite'}, {args.clients} clients, "
            f"{args.requests} requests a row, {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.2f}"
        )
        rng = random.Random(7)
        ids = [fake_id_number(rng) for _ in range(2 * args.requests)]
        limits = httpx.Limits(max_connections=args.clients)
        try:
            with (
                httpx.Client(
                    base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
                ) as http,
                httpx.Client(
                    base_url=f"http://127.0.0.1:{bare_port}", timeout=60, limits=limits
                ) as bare_http,
            ):

                def body(n: int) -> dict:
                    return {
                        "course_code": code,
                        "name": "张三",
                        "id_number": ids[n],
                        "mobile": "13800138000",
                        "company_uscc": uscc,
                        "consent": True,
                    }

                def enroll(n: int) -> int:
                    return http.post(
                        "/api/v1/enrollments",
                        headers={"X-Forwarded-For": f"198.18.{n // 256 % 256}.{n % 256}"},
                        json=body(n),
                    ).status_code

                def bare_enroll(n: int) -> int:
                    return bare_http.post("/bare/enrollments", json=body(n)).status_code

                def get(path: str, client=http):
                    return lambda n: client.get(path).status_code

                def row(label: str, call, bare_call) -> None:
                    yardstick = load(args.clients, args.requests, bare_call)
                    _print("  bare", yardstick)
                    _print(label, load(args.clients, args.requests, call), yardstick)

                row("POST /api/v1/enrollments", enroll, bare_enroll)
                row("GET /courses", get("/courses"), get("/bare/page", bare_http))
                row("GET /", get("/"), get("/bare/page", bare_http))
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=30)
        print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
