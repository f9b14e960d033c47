"""Two app instances and two workers on one PostgreSQL database and one data folder, beside one
instance and one worker, in the same run: nothing is lost or counted twice.

Each shape gets a fresh database (created on the server DANDELION_BENCH_POSTGRES names, dropped
at the end) and a fresh data folder. `dandelion serve` and `dandelion worker` run as children
on loopback, as an operator starts them; clients are threads, each with its own course and its
university's API token, sending every request to the next instance in turn (a balancer's round
robin). A client's round: enroll five trainees (POST /api/v1/enrollments, each from its own
forwarded address), upload their completions (POST /api/v1/completions, CSV), issue the
course's certificates (a job the workers do), follow the job, download each new PDF.

When the time is up every client issues once more, the workers finish, and the checks run:
no 5xx or dropped connection; every enrollment and completion the clients were told of is in
the database once, no others; one valid certificate per completion, its file on disk with the
SHA-256 of its record, every download those bytes; `dandelion goals verify` agrees.
Printed: requests a second and p50/p99 by kind, for each shape.

    DANDELION_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/multi_instance.py [--seconds 60] [--clients 8]
"""

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, make_url, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import Recorder, free_port, start_app, start_worker, stop  # noqa: E402

ROUND = 5  # trainees a client enrolls and completes each round


class Client:
    """One clerk's course and what the app told them it stored."""

    def __init__(self, n: int, course: str, token: str, uscc: str):
        self.n, self.course, self.token, self.uscc = n, course, token, uscc
        self.enrolled: list[str] = []  # ID numbers answered 201
        self.accepted = 0  # completions the uploads said were saved
        self.downloaded: dict[str, str] = {}  # serial: SHA-256 of the bytes received


def _database(server: str) -> str:
    name = f"dandelion_multi_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(False)


def _drop(server: str, url: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')


def _seed(env: dict, clients: int) -> list[Client]:
    os.environ.update(env)
    from app import migrate
    from app.auth import service as auth
    from app.config import Settings
    from app.db import sessions_for
    from tests.factories import make_company, make_course, make_university

    settings = Settings()
    migrate.upgrade(settings.database_url)
    sessions = sessions_for(settings)
    made = []
    with sessions() as session:
        uscc = make_company(session).uscc
        for n in range(clients):
            university = make_university(session)
            course = make_course(session, university, capacity=100_000)
            _, token = auth.create_token(
                session, name="bench", role="university", university_id=university.id
            )
            session.commit()
            made.append(Client(n, course.code, token, uscc))
    sessions.kw["bind"].dispose()
    return made


def _round(client: Client, urls: list[str], http: httpx.Client, seen: Recorder, rng, ids) -> None:
    turn = iter(range(client.n, 10**9))

    def url(path: str) -> str:
        return urls[next(turn) % len(urls)] + path

    bearer = {"Authorization": f"Bearer {client.token}"}
    fresh = []
    for _ in range(ROUND):
        id_number, n = ids()
        body = {"course_code": client.course, "name": "张三", "id_number": id_number}
        body |= {"mobile": "13800138000", "company_uscc": client.uscc, "consent": True}
        forwarded = {"X-Forwarded-For": f"198.18.{n // 256 % 256}.{n % 256}"}
        r = seen.timed(
            "enroll", http.post, url("/api/v1/enrollments"), json=body, headers=forwarded
        )
        if r is not None and r.status_code == 201:
            client.enrolled.append(id_number)
            fresh.append(id_number)
    done_on = (_today() - timedelta(days=1)).isoformat()
    csv = "姓名,身份证号,课程代码,结业日期,成绩\n" + "".join(
        f"张三,{i},{client.course},{done_on},90\n" for i in fresh
    )
    files = {"file": ("completions.csv", csv.encode())}
    r = seen.timed("upload", http.post, url("/api/v1/completions"), files=files, headers=bearer)
    if r is not None and r.status_code == 200:
        client.accepted += r.json()["accepted"]
    _issue_and_download(client, url, http, seen, bearer)


def _issue_and_download(client, url, http, seen: Recorder, bearer) -> None:
    path = f"/api/v1/courses/{client.course}/certificates"
    r = seen.timed("issue", http.post, url(path), headers=bearer)
    if r is None or r.status_code != 202:
        return
    status_url = r.json()["status_url"]
    while True:
        job = seen.timed("job status", http.get, url(status_url), headers=bearer)
        if job is not None and job.status_code == 200 and job.json()["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    for serial in _serials(client.course):
        if serial in client.downloaded:
            continue
        pdf = seen.timed(
            "download", http.get, url(f"/api/v1/certificates/{serial}/pdf"), headers=bearer
        )
        if pdf is not None and pdf.status_code == 200:
            client.downloaded[serial] = hashlib.sha256(pdf.content).hexdigest()


_engine = None


def _serials(course_code: str) -> list[str]:
    from app.certificates.models import Certificate
    from app.courses.models import Course

    with _engine.connect() as conn:
        query = select(Certificate.serial).join(Course, Course.id == Certificate.course_id)
        return list(conn.execute(query.where(Course.code == course_code)).scalars())


def _today():
    from app import clock

    return clock.today()


def _count(conn, column, *where) -> tuple[int, int]:
    """Rows, and distinct values of the column among them: equal when nothing is doubled."""
    query = select(func.count(), func.count(func.distinct(column))).where(*where)
    rows, distinct = conn.execute(query).one()
    return rows, distinct


def _checks(clients: list[Client], seen: Recorder, data_dir: Path, env: dict) -> list[str]:
    from app.certificates.models import Certificate
    from app.completions.models import Completion
    from app.courses.models import Course
    from app.enrollments.models import Enrollment

    problems = []
    for kind, (_, statuses) in seen.seen.items():
        bad = {s: n for s, n in statuses.items() if s >= 500 or s == 0}
        if bad:
            problems.append(f"{kind}: {bad} (5xx, or 0: a connection dropped)")
    with _engine.connect() as conn:
        for c in clients:
            course = conn.execute(select(Course.id).where(Course.code == c.course)).scalar_one()

            enrolled = _count(conn, Enrollment.trainee_id, Enrollment.course_id == course)
            completed = _count(conn, Completion.enrollment_id, Completion.course_id == course)
            issued = _count(
                conn,
                Certificate.completion_id,
                Certificate.course_id == course,
                Certificate.status == "issued",
            )
            if tuple(enrolled) != (len(c.enrolled),) * 2:
                problems.append(
                    f"{c.course}: enrollments {tuple(enrolled)}, told {len(c.enrolled)}"
                )
            if tuple(completed) != (c.accepted,) * 2:
                problems.append(f"{c.course}: completions {tuple(completed)}, told {c.accepted}")
            if tuple(issued) != (c.accepted,) * 2:
                problems.append(f"{c.course}: certificates {tuple(issued)} for {c.accepted}")
        rows = conn.execute(
            select(Certificate.serial, Certificate.pdf_path, Certificate.pdf_sha256)
        )
        stored = {serial: (path, sha) for serial, path, sha in rows}
    for serial, (path, sha) in stored.items():
        on_disk = data_dir / path
        if not on_disk.is_file() or hashlib.sha256(on_disk.read_bytes()).hexdigest() != sha:
            problems.append(f"{serial}: its PDF is missing or differs from its record")
    for c in clients:
        for serial, sha in c.downloaded.items():
            if stored.get(serial, ("", ""))[1] != sha:
                problems.append(f"{serial}: downloaded bytes differ from the record")
    verify = subprocess.run(
        [sys.executable, "-m", "app.cli", "goals", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if verify.returncode != 0:
        problems.append(f"dandelion goals verify: {verify.stderr.strip()}")
    return problems


def run_shape(label: str, instances: int, workers: int, args, server: str) -> dict:
    global _engine
    from app.db import make_engine
    from app.trainees.validators import fake_id_number

    url = _database(server)
    data_dir = Path(tempfile.mkdtemp(prefix="dandelion-multi-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
    env |= {
        "DANDELION_ENVIRONMENT": "test",
        "DANDELION_DATA_DIR": str(data_dir),
        "DANDELION_DATABASE_URL": url,
        "DANDELION_SECRET_KEY": "m" * 48,
        "DANDELION_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "DANDELION_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    processes = []
    try:
        clients = _seed(env, args.clients)
        _engine = make_engine(url)
        logs = (data_dir / "logs").open("ab")
        ports = [free_port() for _ in range(instances)]
        processes += [start_worker(env, logs) for _ in range(workers)]
        processes += [start_app(env, port, logs, ready="/readyz") for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        seen, rng, lock, counter = Recorder(), random.Random(11), threading.Lock(), [0]

        def ids():
            with lock:
                counter[0] += 1
                return fake_id_number(rng), counter[0]

        deadline = time.monotonic() + args.seconds

        def work(client: Client) -> None:
            with httpx.Client(timeout=120) as http:
                while time.monotonic() < deadline:
                    _round(client, urls, http, seen, rng, ids)

        started = time.perf_counter()
        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        with httpx.Client(timeout=120) as http:  # what the last rounds uploaded, issued too
            for c in clients:
                bearer = {"Authorization": f"Bearer {c.token}"}
                _issue_and_download(c, lambda p: urls[0] + p, http, Recorder(), bearer)
        problems = _checks(clients, seen, data_dir, env)
        return {
            "label": label,
            "figures": seen.figures(wall, waiting=("job status",)),
            "problems": problems,
            "enrolled": sum(len(c.enrolled) for c in clients),
            "certificates": sum(c.accepted for c in clients),
        }
    finally:
        stop(processes)
        if _engine is not None:
            _engine.dispose()
        _drop(server, url)


def _print(result: dict) -> None:
    print(f"\n{result['label']}: {result['enrolled']} enrolled, {result['certificates']} certified")
    for kind, f in result["figures"].items():
        print(
            f"  {kind:<11} {f.per_second:7.1f} req/s   p50 {f.p50_ms:7.1f} ms   "
            f"p99 {f.p99_ms:7.1f} ms   {f.statuses}"
        )
    for problem in result["problems"]:
        print(f"  PROBLEM {problem}")
    print("  checks passed" if not result["problems"] else "  checks FAILED")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    given = os.environ.get(
        "DANDELION_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    server = (
        make_url(given).set(drivername="postgresql", database="postgres").render_as_string(False)
    )
    print(
        f"PostgreSQL, {args.clients} clients, {args.seconds:.0f} s a shape, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )
    results = [
        run_shape("one instance, one worker", 1, 1, args, server),
        run_shape("two instances, two workers", 2, 2, args, server),
    ]
    for result in results:
        _print(result)
    # "all" leaves out the job polls: they only wait for the workers.
    one, two = (r["figures"].get("all") for r in results)
    if one and two:
        print(
            f"\nthroughput two/one: {two.per_second / one.per_second:.2f}x, "
            f"p99 {one.p99_ms:.0f} ms -> {two.p99_ms:.0f} ms; load {os.getloadavg()[0]:.2f}"
        )
    if any(r["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
