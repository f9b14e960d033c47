"""The goal counters at a million trainees, against the live joins they replaced, in one run.

    .venv/bin/python bench/goal_counters.py [--trainees 1000000] [--requests 400] [--clients 16]
    DANDELION_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/counters_bench \\
        .venv/bin/python bench/goal_counters.py

On a fresh SQLite database, and on PostgreSQL too when DANDELION_BENCH_POSTGRES names an empty
database (its tables are emptied first): bench/run.py's goals fixture at 1,000,000 trainees
(~1,150,000 enrollments over 50 universities, 2 courses each, 15% taking a second course
elsewhere; ~100,000 completions; 20,000 companies over Shandong's 16 cities), inserted with
Core in chunks, then tally.rebuild as an operator runs `dandelion goals rebuild` after a bulk
load. Then, with the database as the app leaves it (no ANALYZE, no warm-up, no index the app
lacks): goals.count_all and goals.by_city (median of --runs) beside the live COUNT(DISTINCT)
and joins they replaced (run.live_goals, run.live_by_city); GET /api/v1/goals and GET / from
--clients threads against a `dandelion serve` child process, beside GET /api/v1/keys (no
database work) in the same run; and the recount `dandelion goals verify` runs, with whether the
counters agree with it. --trainees scales the fixture (companies and completions with it).
Prints figures, asserts nothing. Issue 9's goal: counters within 10 ms at full size.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import run  # noqa: E402  (bench/run.py: databases, the goals fixture, the live baselines)
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.goals import service as goals  # noqa: E402
from app.goals import tally  # noqa: E402
from app.security import keys_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UNIVERSITIES = 50
# ~1.15 enrollments a trainee: 100,000 completions at 1,000,000 trainees.
COMPLETION_RATE = 100_000 / 1_150_000
GOAL_MS = 10.0


def bench(backend: str, n: int, runs: int, clients: int, requests: int) -> list[run.Result]:
    settings = run.fresh_settings(backend, "counters")
    engine = make_engine(settings.database_url)
    print(f"{backend}: inserting {n:,} trainees...", file=sys.stderr, flush=True)
    totals = run.goals_setup(
        engine,
        n,
        UNIVERSITIES,
        max(16, n // 50),
        keys_for(settings.secret_key),
        completion_rate=COMPLETION_RATE,
    )
    results = [
        run.Result(
            "setup: Core inserts (placeholder encryption)",
            backend,
            n,
            totals["insert_s"],
            f"{totals['enrollments']:,} enrollments, {totals['completions']:,} completions, "
            f"{max(16, n // 50):,} companies",
        ),
        run.Result(
            "tally.rebuild after the bulk load, + commit", backend, None, totals["rebuild_s"]
        ),
    ]
    print(f"{backend}: counting...", file=sys.stderr, flush=True)
    with Session(engine) as session:
        counted = goals.count_all(session, settings)
        live = run.live_goals(session, settings)
        same = all(counted[k].count == live[k] for k in live)
        count_s = run.median_of(lambda: goals.count_all(session, settings), runs)
        live_s = run.median_of(lambda: run.live_goals(session, settings), runs)
        cities = {r.code: (r.universities, r.companies, r.talents) for r in goals.by_city(session)}
        live_cities = run.live_by_city(session)
        same_cities = {c: v for c, v in cities.items() if any(v)} == live_cities
        city_s = run.median_of(lambda: goals.by_city(session), runs)
        live_city_s = run.median_of(lambda: run.live_by_city(session), runs)
    figures = ", ".join(f"{k} {live[k]:,}" for k in live)
    results += [
        run.Result(
            f"goals.count_all, counters (median of {runs})",
            backend,
            None,
            count_s,
            f"goal <= {GOAL_MS:.0f} ms; {figures}",
        ),
        run.Result(
            f"baseline: live COUNT(DISTINCT) (median of {runs})",
            backend,
            None,
            live_s,
            f"{live_s / count_s:,.0f}x count_all; {'same' if same else 'DIFFERENT'} counts",
        ),
        run.Result(
            f"goals.by_city, counters (median of {runs})",
            backend,
            None,
            city_s,
            f"goal <= {GOAL_MS:.0f} ms; {len(live_cities)} cities",
        ),
        run.Result(
            f"baseline: by city by joins (median of {runs})",
            backend,
            None,
            live_city_s,
            f"{live_city_s / city_s:,.0f}x by_city; "
            f"{'same' if same_cities else 'DIFFERENT'} counts",
        ),
    ]
    print(f"{backend}: serving {clients} clients...", file=sys.stderr, flush=True)
    results += http_load(backend, settings, clients, requests)
    print(f"{backend}: recounting...", file=sys.stderr, flush=True)
    with Session(engine) as session:
        verify_s, differences = run.timed(lambda: tally.differences(session))
    engine.dispose()
    agreement = "agree" if not differences else f"{len(differences)} DIFFER: {differences[:3]}"
    results.append(
        run.Result(
            "tally.differences: recount + compare (goals verify)",
            backend,
            None,
            verify_s,
            f"counters and recount {agreement}",
        )
    )
    return results


# --- a real server, many clients -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings, port: int, log: Path) -> subprocess.Popen:
    """`dandelion serve` in a child process (one worker) on the benchmark's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
    env.update(
        DANDELION_ENVIRONMENT="test",
        DANDELION_DATA_DIR=str(settings.data_dir),
        DANDELION_DATABASE_URL=settings.database_url,
        DANDELION_SECRET_KEY=run.SECRET,
        DANDELION_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-upgrade"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/keys", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.25)
    server.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")


def load(clients: int, requests: int, call) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def one(_: int) -> None:
        started = time.perf_counter()
        status = call()
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    return time.perf_counter() - started, latencies, statuses


def http_load(backend: str, settings: Settings, clients: int, requests: int) -> list[run.Result]:
    port = free_port()
    server = serve(settings, port, run.TMP / f"serve-{backend}.log")
    results = []
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            limits=httpx.Limits(max_connections=clients),
        ) as http:
            for label, path in (
                ("GET /api/v1/keys (bare endpoint)", "/api/v1/keys"),
                ("GET /api/v1/goals", "/api/v1/goals"),
                ("GET / (home page)", "/"),
                ("GET /api/v1/keys again", "/api/v1/keys"),
            ):
                wall, latencies, statuses = load(
                    clients, requests, lambda path=path: http.get(path).status_code
                )
                p95 = statistics.quantiles(latencies, n=20)[18]
                results.append(
                    run.Result(
                        f"{label}, {clients} clients: p50",
                        backend,
                        None,
                        statistics.median(latencies),
                        f"{requests / wall:,.0f} req/s over {requests}; p95 {p95 * 1000:.1f} ms; "
                        f"statuses {dict(sorted(statuses.items()))}",
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20, help="timings a median is taken of")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="a row, over all clients")
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=("sqlite", "postgresql"),
        help="default: SQLite, and PostgreSQL when DANDELION_BENCH_POSTGRES is set",
    )
    args = parser.parse_args()
    backends = args.databases or (
        ["sqlite"] + (["postgresql"] if os.environ.get("DANDELION_BENCH_POSTGRES") else [])
    )
    if "postgresql" in backends and not os.environ.get("DANDELION_BENCH_POSTGRES"):
        parser.error("postgresql needs DANDELION_BENCH_POSTGRES: an empty database's URL")
    try:
        print("\n".join(run.machine(backends)), end="\n\n", flush=True)
        results = []
        for backend in backends:
            results += bench(backend, args.trainees, args.runs, args.clients, args.requests)
        print("\n".join(run.table(results)), end="\n\n")
        print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(run.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
