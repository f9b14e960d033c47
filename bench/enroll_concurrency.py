"""Enrollment under load: 16 clients enrolling at once through a real server, beside a bare endpoint.

Every enrollment attempt now writes throttle events (per address and ID number, per address and
course, per address) and commits them before the enrollment itself, so the figure to watch is
what that costs when a class enrolls together. The server is `dandelion serve` in a child
process, as users meet it (one worker, SQLite in WAL mode, or PostgreSQL when
DANDELION_BENCH_POSTGRES names an empty database); each client sends X-Forwarded-For with its
own address, as a proxy in front would. In the same run, the same 16 clients fetch
GET /api/v1/keys (no database work): the bare endpoint is the yardstick.

    .venv/bin/python bench/enroll_concurrency.py [--requests 400] [--clients 16]
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(env: dict) -> tuple[str, str]:
    os.environ.update(env)
    from sqlmodel import Session

    from app import migrate
    from app.config import get_settings
    from app.db import make_engine
    from tests.factories import make_company, make_course, make_university

    get_settings.cache_clear()
    url = get_settings().database_url
    migrate.upgrade(url)
    with Session(make_engine(url)) as session:
        course = make_course(session, make_university(session), capacity=100_000)
        return course.code, make_company(session).uscc


def _start(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-upgrade"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/keys", timeout=1)
            return server
        except OSError:
            time.sleep(0.25)
    server.kill()
    raise SystemExit("the server did not start")


def _load(clients: int, requests: int, call) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def one(n: int) -> None:
        started = time.perf_counter()
        status = call(n)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    return time.perf_counter() - started, latencies, statuses


def _print(label: str, wall: float, latencies: list[float], statuses: dict[int, int]) -> None:
    q = statistics.quantiles(latencies, n=20)
    print(
        f"{label:<34} {len(latencies) / wall:7.1f} req/s   p50 {statistics.median(latencies) * 1e3:6.1f} ms"
        f"   p95 {q[18] * 1e3:6.1f} ms   statuses {dict(sorted(statuses.items()))}"
    )


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
        if os.environ.get("DANDELION_BENCH_POSTGRES"):
            env["DANDELION_DATABASE_URL"] = os.environ["DANDELION_BENCH_POSTGRES"]
        code, uscc = _seed(env)
        port = _free_port()
        env["DANDELION_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = _start(env, port)
        database = "PostgreSQL" if "DANDELION_DATABASE_URL" in env else "SQLite"
        print(
            f"{database}, {args.clients} clients, {args.requests} requests each row, "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        )
        rng = random.Random(7)
        ids = [fake_id_number(rng) for _ in range(args.requests)]
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=60,
                limits=httpx.Limits(max_connections=args.clients),
            ) as http:

                def keys(n: int) -> int:
                    return http.get("/api/v1/keys").status_code

                def enroll(n: int) -> int:
                    return http.post(
                        "/api/v1/enrollments",
                        headers={"X-Forwarded-For": f"198.18.{n // 256 % 256}.{n % 256}"},
                        json={
                            "course_code": code,
                            "name": "张三",
                            "id_number": ids[n],
                            "mobile": "13800138000",
                            "company_uscc": uscc,
                            "consent": True,
                        },
                    ).status_code

                _print("GET /api/v1/keys (bare)", *_load(args.clients, args.requests, keys))
                _print("POST /api/v1/enrollments", *_load(args.clients, args.requests, enroll))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
