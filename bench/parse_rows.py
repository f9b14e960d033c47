"""How fast an upload's rows are read and checked, beside the bare readers, before any database.

    python bench/parse_rows.py [--rows 10000] [--runs 5]

For a GBK CSV as Chinese Excel saves it and for an XLSX with the ID column as text, the same
rows each time, median of --runs:

- baseline: the bare reader, what any import pays (CSV: decode GB18030 and the csv module;
  XLSX: openpyxl's read-only mode, the usual way to read a workbook in Python);
- parse: completions.parsing.parse_completion_file (format and encoding detection, the
  header, the readers' limits, rows);
- parse + checks: the same, then every row through completions.checks.check_row (ID number,
  course, date, score, name), as an upload does before it looks anything up.

Prints figures and asserts nothing; once in tests/completions/test_parsing.py.
"""

import argparse
import csv
import io
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.completions import checks  # noqa: E402
from app.completions.parsing import parse_completion_file  # noqa: E402
from app.courses.models import Course  # noqa: E402
from app.trainees.validators import fake_id_number  # noqa: E402
from tests.files import gbk_csv, xlsx  # noqa: E402

SURNAMES, GIVEN = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚",
)
COURSE = Course(
    code="QLU-DIG-01",
    title="纺织服装数字化设计",
    hours=32,
    capacity=50,
    starts_on=date(2026, 3, 1),
    ends_on=date(2026, 6, 30),
    university_id=1,
)
TODAY = date(2026, 7, 1)


def rows_of(count: int) -> list[list[str]]:
    rng = random.Random(count)
    return [
        [
            rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            fake_id_number(rng),
            COURSE.code,
            (COURSE.starts_on + timedelta(days=rng.randrange(100))).isoformat(),
            str(rng.randrange(600, 1001) / 10),
        ]
        for _ in range(count)
    ]


def bare_csv(data: bytes) -> int:
    return len(list(csv.reader(io.StringIO(data.decode("gb18030"), newline="")))) - 1


def bare_xlsx(data: bytes) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    count = sum(1 for _ in workbook.active.iter_rows(values_only=True)) - 1
    workbook.close()
    return count


def parse(filename: str, data: bytes) -> int:
    return len(parse_completion_file(filename, data).rows)


def parse_and_check(filename: str, data: bytes) -> int:
    courses = {COURSE.code: COURSE}
    results = [
        checks.check_row(row, courses, TODAY) for row in parse_completion_file(filename, data).rows
    ]
    refused = [r for r in results if isinstance(r, checks.Refusal)]
    if refused:
        raise SystemExit(f"{len(refused)} rows refused, e.g. {refused[0]}: the figures would lie")
    return len(results)


def median_seconds(fn, runs: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = rows_of(args.rows)
    files = [
        ("GBK CSV", "结业名单.csv", gbk_csv(rows), bare_csv),
        ("XLSX", "结业名单.xlsx", xlsx(rows), bare_xlsx),
    ]
    print(
        f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, Python "
        f"{sys.version.split()[0]}; {args.rows:,} rows, median of {args.runs}"
    )
    print(f"{'file':9} {'size':>7}  {'step':28} {'ms':>8} {'rows/s':>10} {'x baseline':>10}")
    for label, filename, data, bare in files:
        baseline = None
        for step, fn in (
            ("baseline: bare reader", partial(bare, data)),
            ("parse", partial(parse, filename, data)),
            ("parse + checks", partial(parse_and_check, filename, data)),
        ):
            seconds, count = median_seconds(fn, args.runs)
            if count != args.rows:
                raise SystemExit(f"{label} {step}: {count:,} rows, not {args.rows:,}")
            baseline = baseline or seconds
            print(
                f"{label:9} {len(data) / 1024:6,.0f}K  {step:28} {seconds * 1000:8.1f} "
                f"{count / seconds:10,.0f} {seconds / baseline:10.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
