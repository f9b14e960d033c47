"""The monthly report's render time: its figures from the records, the WeasyPrint page, and the
whole GET through the app, on a database of about 100,000 completions.

    .venv/bin/python bench/monthly_report.py [--trainees 150000] [--runs 5]
    DANDELION_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/report_bench \\
        .venv/bin/python bench/monthly_report.py

bench/run.py's goals fixture (50 universities with 2 courses each, companies = trainees / 50
over Shandong's 16 cities, 15% of trainees taking a second course elsewhere) with 58% of the
enrollments completed: ~100,000 completions at 150,000 trainees. The fixture dates every
completion within the last 30 days; here they are spread evenly from the campaign's start to
today, so the cumulative chart has a column for every month. On SQLite, and on PostgreSQL too
when DANDELION_BENCH_POSTGRES names an empty database. Prints medians of --runs (after one
cold run, which loads the fonts); asserts nothing.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import run  # noqa: E402  (bench/run.py: databases, the goals fixture, timing)
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app import clock, i18n  # noqa: E402
from app.auth import service as auth  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.goals import report, report_pdf, targets  # noqa: E402
from app.main import create_app  # noqa: E402
from app.security import keys_for  # noqa: E402

UNIVERSITIES = 50
COMPLETION_RATE = 0.58  # of ~1.15 enrollments a trainee


def spread_dates(engine, settings) -> None:
    """Completion dates from the campaign's first day to today, evenly by id."""
    with Session(engine) as session:
        starts_on = targets.current(session, settings).starts_on
    days = max(1, (clock.today() - starts_on).days + 1)
    with engine.begin() as conn:
        day = (
            f"DATE '{starts_on}' + (id % {days})"
            if conn.dialect.name == "postgresql"
            else f"date('{starts_on}', '+' || (id % {days}) || ' days')"
        )
        conn.execute(text(f"UPDATE completion SET completed_on = {day}"))


def bench(backend: str, n: int, runs: int) -> list[run.Result]:
    settings = run.fresh_settings(backend, "monthly_report")
    engine = make_engine(settings.database_url)
    print(f"{backend}: inserting {n:,} trainees...", file=sys.stderr, flush=True)
    totals = run.goals_setup(
        engine, n, UNIVERSITIES, max(16, n // 50), keys_for(settings.secret_key), COMPLETION_RATE
    )
    spread_dates(engine, settings)
    month = report.default_month(clock.today())
    with Session(engine) as session:
        _, admin_secret = auth.create_token(session, name="bench", role="admin")
        _, staff_secret = auth.create_token(
            session, name="bench", role="university", university_id=1
        )
        session.commit()
        token = i18n.set_language("zh")
        figures_s = run.median_of(lambda: report.alliance(session, settings, month), runs)
        context = report.alliance(session, settings, month)
        cold_s, printed = run.timed(lambda: report_pdf.print_report(context))
        print_s = run.median_of(lambda: report_pdf.print_report(context), runs)
        i18n.reset_language(token)
    engine.dispose()
    application = create_app(settings)
    path = f"/api/v1/goals/report.pdf?month={month:%Y-%m}"
    with run.client_of(application) as client:

        def get(secret: str) -> None:
            response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
            if response.status_code != 200:
                raise SystemExit(f"GET {path} failed: {response.status_code} {response.text}")

        admin_s = run.median_of(lambda: get(admin_secret), runs)
        staff_s = run.median_of(lambda: get(staff_secret), runs)
    application.state.engine.dispose()
    size = f"{len(printed.content) / 1024:,.0f} KB"
    return [
        run.Result(
            "setup: Core inserts, dates spread",
            backend,
            n,
            totals["insert_s"],
            f"{totals['completions']:,} completions, {max(16, n // 50):,} companies",
        ),
        run.Result(
            f"report.alliance: figures as of {month:%Y-%m} (median of {runs})",
            backend,
            None,
            figures_s,
        ),
        run.Result("print_report, first in the process (fonts loaded)", backend, None, cold_s),
        run.Result(
            f"print_report: WeasyPrint page (median of {runs})", backend, None, print_s, size
        ),
        run.Result(
            f"GET /api/v1/goals/report.pdf, the alliance (median of {runs})", backend, None, admin_s
        ),
        run.Result(
            f"GET /api/v1/goals/report.pdf, one university (median of {runs})",
            backend,
            None,
            staff_s,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DANDELION_BENCH_POSTGRES") else [])
    try:
        print("\n".join(run.machine(backends)))
        results = [r for b in backends for r in bench(b, args.trainees, args.runs)]
        print("\n".join(run.table(results)))
    finally:
        shutil.rmtree(run.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
