"""Dandelion's figures: completion uploads, goal counters, certificate printing.

    python bench/run.py [--quick]

Prints figures and never asserts timing. Runs on a fresh SQLite database in a temporary
folder, and on PostgreSQL too when DANDELION_BENCH_POSTGRES names an empty database
(its tables are emptied between benchmarks). --quick shrinks every size tenfold.
"""

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, from anywhere

from fastapi import FastAPI
from sqlalchemy import delete, distinct, func, insert, select, text, update
from sqlmodel import Session, SQLModel, col

import app.models  # noqa: F401
from app import migrate
from app.auth import service as auth
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.completions.models import Completion
from app.config import Settings
from app.courses import service as courses
from app.courses.models import Course, CourseCreate
from app.db import make_engine, utcnow
from app.enrollments.models import CONSENT_VERSION, Enrollment
from app.goals import service as goals
from app.goals import tally, targets
from app.main import create_app
from app.security import Keys, keys_for
from app.text import masked
from app.trainees.models import Trainee
from app.trainees.validators import fake_id_number
from app.universities import service as universities
from app.universities.models import University, UniversityCreate

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="dandelion-bench-"))
SECRET = "bench-secret-" + "k" * 40
CITIES = (
    "3701",
    "3702",
    "3703",
    "3704",
    "3705",
    "3706",
    "3707",
    "3708",
    "3709",
    "3710",
    "3711",
    "3713",
    "3714",
    "3715",
    "3716",
    "3717",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"
TODAY = date.today()


@dataclass
class Result:
    name: str
    db: str
    rows: int | None
    seconds: float
    note: str = ""

    @property
    def rate(self) -> str:
        return f"{self.rows / self.seconds:,.0f}/s" if self.rows and self.seconds else ""


# --- databases -----------------------------------------------------------------------------


def fresh_settings(backend: str, scenario: str) -> Settings:
    """An empty, migrated database for one benchmark, and the settings that point at it."""
    url = (
        os.environ.get("DANDELION_BENCH_POSTGRES", "")
        if backend == "postgresql"
        else f"sqlite:///{TMP / f'{scenario}.db'}"
    )
    migrate.upgrade(url)
    if backend == "postgresql":
        _empty(url)
    return Settings(
        environment="test",
        data_dir=TMP / f"var-{backend}-{scenario}",
        database_url=url,
        secret_key=SECRET,
        _env_file=None,
    )


def _empty(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        tables = [quote(t.name) for t in SQLModel.metadata.sorted_tables if t.name != "city"]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _sync_sequences(conn) -> None:
    """Rows were inserted with explicit ids: move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("university", "course", "company", "trainee", "enrollment", "completion"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_of(fn, runs: int = 10) -> float:
    return statistics.median(timed(fn)[0] for _ in range(runs))


def client_of(application: FastAPI) -> "TestClient":
    # Importing the test client warns that it will need httpx2; the figures are the same.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient
    return TestClient(application)


# --- rows ----------------------------------------------------------------------------------


def trainee_row(i: int, id_number: str, rng: random.Random, k: Keys, *, encrypt: bool) -> dict:
    """Encrypting costs ~15 us a field; the goals benchmark, which never reads them, skips it."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    now = utcnow()
    return {
        "id": i,
        "id_hash": k.lookup_hash(id_number),
        "id_encrypted": k.encrypt(id_number) if encrypt else "placeholder",
        "id_masked": masked(id_number),
        "name": name,
        "created_at": now,
        "updated_at": now,
    }


def enrollment_row(i: int, trainee_id: int, course_id: int, company_id: int) -> dict:
    return {
        "id": i,
        "enrollment_no": f"BM{TODAY:%y}{i:08d}",
        "course_id": course_id,
        "trainee_id": trainee_id,
        "company_id": company_id,
        "status": "enrolled",
        "consent_version": CONSENT_VERSION,
        "consent_at": utcnow(),
        "consent_channel": "web",
        "share_with_employer": False,
        "created_at": utcnow(),
        # Contact details are never read by the benchmarks: a placeholder saves the encryption.
        "mobile_encrypted": "placeholder",
        "mobile_masked": "138****0000",
        "email_encrypted": None,
    }


def completion_row(enrollment: dict, university_id: int, rng: random.Random) -> dict:
    return {
        "enrollment_id": enrollment["id"],
        "course_id": enrollment["course_id"],
        "university_id": university_id,
        "trainee_id": enrollment["trainee_id"],
        "company_id": enrollment["company_id"],
        "completed_on": TODAY - timedelta(days=rng.randint(0, 30)),
        "hours": Decimal(32),
        "score": Decimal(rng.randint(60, 100)),
        "batch_id": None,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }


def company_rows(count: int, rng: random.Random) -> list[dict]:
    return [
        {
            "id": i,
            "uscc": fake_uscc(rng, region=f"{CITIES[i % 16]}00"),
            "name": f"山东第{i}纺织有限公司",
            "city_code": CITIES[i % 16],
            "cluster": "other",
            "created_at": utcnow(),
        }
        for i in range(1, count + 1)
    ]


# --- a. completion upload ------------------------------------------------------------------


def bench_upload(backend: str, n: int) -> list[Result]:
    settings = fresh_settings(backend, "upload")
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        setup_s, (course, people) = timed(
            lambda: upload_setup(session, n, keys_for(settings.secret_key))
        )
        rows = [
            completion_row(e, course.university_id, random.Random(i))
            for i, (_, _, e) in enumerate(people)
        ]
        orm_s = statistics.median(
            insert_then_delete(session, lambda: orm_insert(session, rows)) for _ in range(3)
        )
        core_s = statistics.median(
            insert_then_delete(session, lambda: session.execute(insert(Completion), rows))
            for _ in range(3)
        )
        _, secret = auth.create_token(
            session, name="bench", role="university", university_id=course.university_id
        )
        session.commit()
    # No ANALYZE or VACUUM: the upload meets the database as the app leaves it (the
    # baselines' deleted rows included; bench/large_uploads.py times uploads on fresh ones).
    engine.dispose()
    data = completion_csv(course, people)
    first_s, first, again_s, again = post_twice(settings, secret, data)
    return [
        Result("a. setup: trainees + enrollments (Core, encrypted)", backend, n, setup_s),
        Result(
            "a. baseline: ORM session.add per completion",
            backend,
            n,
            orm_s,
            "insert + commit only, median of 3",
        ),
        Result(
            "a. baseline: Core executemany", backend, n, core_s, "insert + commit only, median of 3"
        ),
        Result(
            "a. upload CSV over HTTP, new rows",
            backend,
            n,
            first_s,
            f"accepted {first['accepted']}, {len(data) >> 10} KiB, single run",
        ),
        Result(
            "a. same file again, unchanged",
            backend,
            n,
            again_s,
            f"unchanged {again['unchanged']}, single run",
        ),
    ]


def upload_setup(session: Session, n: int, k: Keys):
    university = universities.create(
        session,
        UniversityCreate(code="BENCH", name="山东纺织大学", city_code="3701"),
        actor="bench",
    )
    course = courses.create(
        session,
        university=university,
        data=CourseCreate(
            code="BENCH-01",
            title="数字化印染工艺",
            hours=Decimal(32),
            capacity=min(n + 1, 100_000),  # a course holds at most 100,000
            starts_on=TODAY - timedelta(days=60),
            ends_on=TODAY + timedelta(days=30),
        ),
        actor="bench",
    )
    rng = random.Random(1)
    companies = company_rows(50, rng)
    session.execute(insert(Company), companies)
    ids = unique_id_numbers(rng, n)
    trainees = [trainee_row(i + 1, ids[i], rng, k, encrypt=True) for i in range(n)]
    enrollments = [enrollment_row(i + 1, i + 1, course.id, 1 + i % 50) for i in range(n)]
    session.execute(insert(Trainee), trainees)
    session.execute(insert(Enrollment), enrollments)
    session.execute(update(Course).where(col(Course.id) == course.id).values(seats_taken=n))
    _sync_sequences(session.connection())
    tally.rebuild(session)  # as an operator runs `dandelion goals rebuild` after a bulk load
    session.commit()
    return course, [(t["name"], ids[i], enrollments[i]) for i, t in enumerate(trainees)]


def unique_id_numbers(rng: random.Random, n: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < n:
        seen[fake_id_number(rng, region=f"{rng.choice(CITIES)}02")] = None
    return list(seen)


def orm_insert(session: Session, rows: list[dict]) -> None:
    for row in rows:
        session.add(Completion(**row))


def insert_then_delete(session: Session, write) -> float:
    """Time the write and its commit, then remove the rows so the next run starts alike."""
    start = time.perf_counter()
    write()
    session.commit()
    seconds = time.perf_counter() - start
    session.execute(delete(Completion))
    session.commit()
    session.expunge_all()
    return seconds


def completion_csv(course: Course, people: list) -> bytes:
    lines = ["姓名,身份证号,课程代码,结业日期,成绩"]
    lines += [
        f"{name},{number},{course.code},{TODAY - timedelta(days=i % 30):%Y-%m-%d},{60 + i % 41}"
        for i, (name, number, _) in enumerate(people)
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def post_twice(settings: Settings, secret: str, data: bytes):
    application = create_app(settings)
    headers = {"Authorization": f"Bearer {secret}"}
    results = []
    with client_of(application) as client:
        for _ in range(2):
            seconds, response = timed(
                lambda: client.post(
                    "/api/v1/completions",
                    headers=headers,
                    files={"file": ("completions.csv", data, "text/csv")},
                )
            )
            if response.status_code != 200:
                raise SystemExit(f"upload failed: {response.status_code} {response.text[:500]}")
            results += [seconds, response.json()]
    application.state.engine.dispose()
    return results


# --- b. goal counters ----------------------------------------------------------------------


def bench_goals(backend: str, n: int, n_universities: int, n_companies: int) -> list[Result]:
    settings = fresh_settings(backend, "goals")
    engine = make_engine(settings.database_url)
    totals = goals_setup(engine, n, n_universities, n_companies, keys_for(settings.secret_key))
    with Session(engine) as session:
        fast = goals.count_all(session, settings)
        live = live_goals(session, settings)
        fast_s = median_of(lambda: goals.count_all(session, settings))
        live_s = median_of(lambda: live_goals(session, settings))
        differences = tally.differences(session)
    engine.dispose()
    same = all(fast[k].count == live[k] for k in live)
    api_s, home_s = http_medians(settings)
    counted = (
        f"{fast['universities'].count} universities, {fast['companies'].count} companies, "
        f"{fast['talents'].count:,} talents; "
        f"{'agrees' if not differences else f'{len(differences)} DIFFERENCES'} with the recount"
    )
    return [
        Result(
            "b. setup: trainees (Core, placeholder encryption)",
            backend,
            n,
            totals["insert_s"],
            f"{totals['enrollments']:,} enrollments, {totals['completions']:,} completions",
        ),
        Result("b. tally.rebuild after the bulk load", backend, None, totals["rebuild_s"]),
        Result("b. goals.count_all, 6 counters (median of 10)", backend, None, fast_s, counted),
        Result(
            "b. baseline: live COUNT(DISTINCT), 4 goals (median of 10)",
            backend,
            None,
            live_s,
            f"{live_s / fast_s:.1f}x count_all; {'same' if same else 'DIFFERENT'} counts",
        ),
        Result("b. GET /api/v1/goals (median of 10)", backend, None, api_s),
        Result("b. GET / home page (median of 10)", backend, None, home_s),
    ]


def live_goals(session: Session, settings: Settings) -> dict[str, int]:
    """The goals as count_all counted them before the counters: COUNT(DISTINCT) over the
    completions' owner columns and the enrollments, each time, with the plan and the two
    small-table figures count_all still counts live."""
    connection = session.connection()

    def distinct_count(column, *where) -> int:
        return connection.execute(select(func.count(distinct(column))).where(*where)).scalar_one()

    targets.current(session, settings)
    distinct_count(col(Course.university_id))
    connection.execute(select(func.count(col(Company.id)))).scalar_one()
    return {
        "universities": distinct_count(col(Completion.university_id)),
        "companies": distinct_count(col(Completion.company_id)),
        "talents": distinct_count(col(Completion.trainee_id)),
        "enrolled": distinct_count(
            col(Enrollment.trainee_id), col(Enrollment.status) == "enrolled"
        ),
    }


def live_by_city(session: Session) -> dict[str | None, tuple[int, int, int]]:
    """goals.by_city the old way: a university by its own city, a company and its trained
    staff by the company's city, by joins over the completions, each time."""
    connection = session.connection()
    universities = dict(
        connection.execute(
            select(University.city_code, func.count(distinct(col(Completion.university_id))))
            .select_from(Completion)
            .join(University, col(Completion.university_id) == University.id)
            .group_by(University.city_code)
        ).all()
    )
    by_company_city = {
        city: (companies, talents)
        for city, companies, talents in connection.execute(
            select(
                Company.city_code,
                func.count(distinct(col(Completion.company_id))),
                func.count(distinct(col(Completion.trainee_id))),
            )
            .select_from(Completion)
            .join(Company, col(Completion.company_id) == Company.id)
            .group_by(Company.city_code)
        ).all()
    }
    return {
        city: (universities.get(city, 0), *by_company_city.get(city, (0, 0)))
        for city in set(universities) | set(by_company_city)
    }


def goals_setup(
    engine,
    n: int,
    n_universities: int,
    n_companies: int,
    k: Keys,
    completion_rate: float = 0.6,
) -> dict:
    """The records, with Core inserts in chunks of 10,000 trainees; then the seats taken and
    the goal counters as the app would have left them (tally.rebuild, as an operator runs
    `dandelion goals rebuild` after a bulk load). Returns the counts and both phases' seconds."""
    rng = random.Random(2)
    totals: dict = {"enrollments": 0, "completions": 0}
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(University),
            [
                {
                    "id": u,
                    "code": f"U{u:03d}",
                    "name": f"山东第{u}高校",
                    "city_code": CITIES[u % 16],
                    "created_at": utcnow(),
                }
                for u in range(1, n_universities + 1)
            ],
        )
        conn.execute(
            insert(Course), [course_row(u, k) for u in range(1, n_universities + 1) for k in (1, 2)]
        )
        conn.execute(insert(Company), company_rows(n_companies, rng))
        for start in range(0, n, 10_000):
            chunk = range(start + 1, min(n, start + 10_000) + 1)
            insert_people(conn, rng, chunk, n_universities, n_companies, totals, k, completion_rate)
        taken = (
            select(func.count())
            .where(col(Enrollment.course_id) == Course.id, col(Enrollment.status) == "enrolled")
            .scalar_subquery()
        )
        conn.execute(update(Course).values(seats_taken=taken))
        _sync_sequences(conn)
    totals["insert_s"] = time.perf_counter() - started
    with Session(engine) as session:

        def rebuild() -> None:
            tally.rebuild(session)
            session.commit()

        totals["rebuild_s"] = timed(rebuild)[0]
    return totals


def course_row(university_id: int, k: int) -> dict:
    return {
        "id": 2 * (university_id - 1) + k,
        "code": f"U{university_id:03d}-{k}",
        "title": "服装智能制造与MES",
        "hours": Decimal(32),
        "capacity": 100_000,  # the most a course holds: 1,000,000 trainees fill ~11,500 each
        "seats_taken": 0,  # counted after the enrollments are in
        "starts_on": TODAY - timedelta(days=60),
        "ends_on": TODAY + timedelta(days=30),
        "enroll_closes_on": None,
        "is_open": True,
        "university_id": university_id,
        "created_at": utcnow(),
    }


def insert_people(
    conn,
    rng: random.Random,
    ids: range,
    n_universities: int,
    n_companies: int,
    totals: dict,
    k: Keys,
    completion_rate: float = 0.6,
) -> None:
    """Each trainee takes a course at home; 15% take a second one elsewhere; completion_rate
    of the enrollments (60% unless told) have a completion."""
    trainees, enrollments, completions = [], [], []
    n_courses = 2 * n_universities
    for i in ids:
        trainees.append(trainee_row(i, f"bench-{i}", rng, k, encrypt=False))
        home = 2 * (i % n_universities) + rng.randint(1, 2)
        picked = [home] + (
            [(home - 1 + rng.randrange(2, n_courses)) % n_courses + 1]
            if rng.random() < 0.15 and n_courses > 2
            else []
        )
        company = rng.randint(1, n_companies)
        for course_id in picked:
            totals["enrollments"] += 1
            enrollment = enrollment_row(totals["enrollments"], i, course_id, company)
            enrollments.append(enrollment)
            if rng.random() < completion_rate:
                completions.append(completion_row(enrollment, (course_id + 1) // 2, rng))
    for model, rows in ((Trainee, trainees), (Enrollment, enrollments), (Completion, completions)):
        conn.execute(insert(model), rows)
    totals["completions"] += len(completions)


def http_medians(settings: Settings) -> tuple[float, float]:
    application = create_app(settings)
    with client_of(application) as client:
        for path in ("/api/v1/goals", "/"):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} failed: {response.status_code}")
        api = median_of(lambda: client.get("/api/v1/goals"))
        home = median_of(lambda: client.get("/"))
    application.state.engine.dispose()
    return api, home


# --- c. certificates, report ---------------------------------------------------------------


def certificate_render(quick: bool) -> str:
    script = ROOT / "bench" / "certificate_render.py"
    if not script.exists():
        return "skipped: bench/certificate_render.py does not exist yet"
    done = subprocess.run(
        [sys.executable, str(script), *(["--quick"] if quick else [])],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        return f"failed (exit {done.returncode}):\n{done.stdout}{done.stderr[-3000:]}"
    return done.stdout.rstrip()


def machine(backends: list[str]) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    lines = [
        f"CPU: {os.cpu_count()} x {models[0] if models else platform.processor() or '?'}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)",
        "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]
    if "postgresql" in backends:
        engine = make_engine(os.environ["DANDELION_BENCH_POSTGRES"])
        with engine.connect() as conn:
            lines.append(conn.execute(text("SELECT version()")).scalar().split(" on ")[0])
        engine.dispose()
    return lines


def table(results: list[Result]) -> list[str]:
    width = max(len(r.name) for r in results)
    lines = [
        f"{'benchmark':<{width}}  {'db':<10} {'rows':>7} {'time':>10} {'rate':>10}  note",
        "-" * (width + 60),
    ]
    for r in results:
        shown = f"{r.seconds * 1000:.1f} ms" if r.seconds < 1 else f"{r.seconds:.2f} s"
        rows = f"{r.rows:,}" if r.rows else ""
        lines.append(f"{r.name:<{width}}  {r.db:<10} {rows:>7} {shown:>10} {r.rate:>10}  {r.note}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every size 10x smaller: a smoke run")
    scale = 10 if parser.parse_args().quick else 1
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DANDELION_BENCH_POSTGRES") else [])
    try:
        print("\n".join(machine(backends)), end="\n\n", flush=True)
        results = []
        for backend in backends:
            print(f"running on {backend}...", file=sys.stderr, flush=True)
            results += bench_upload(backend, 10_000 // scale)
            results += bench_goals(backend, 100_000 // scale, 50 // scale, 500 // scale)
        print("\n".join(table(results)), end="\n\n", flush=True)
        print("c. certificate render (bench/certificate_render.py)", flush=True)
        print(certificate_render(scale > 1))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
