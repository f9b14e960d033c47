"""What a small hostile upload costs the parser: seconds and memory, one fresh process per file.

    python bench/hostile_uploads.py [--only NAME]

Each file is parsed by completions.parsing.parse_completion_file in a child process, so the
memory figure is the child's peak resident size (ru_maxrss) grown past what it held before
parsing. Prints figures, asserts nothing. The first rows are the yardstick: a realistic
workbook of 50,000 rows (the row cap) and of 100,000 rows, whose unpacked size sets
xlsx.MAX_UNZIPPED.
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.files import CHINESE_HEADER, inline_row, raw_xlsx, shared_strings  # noqa: E402

HEADER = "".join(inline_row(1, CHINESE_HEADER))
ROW = ["张三", "370102199001011234", "C2026001", "2026-05-01", "85"]


def realistic(rows: int) -> bytes:
    """A completions workbook as a university fills in our template: ID as text, a date cell."""
    import openpyxl

    from app.trainees.validators import fake_id_number

    rng = random.Random(rows)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(CHINESE_HEADER)
    surnames, given = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚",
    )
    start = date(2026, 3, 1)
    for line in range(2, rows + 2):
        name = rng.choice(surnames) + "".join(rng.choices(given, k=rng.choice((1, 2))))
        done = datetime.combine(start + timedelta(days=rng.randrange(60)), datetime.min.time())
        sheet.append(
            [
                name,
                fake_id_number(rng),
                f"QLU-DIG-{rng.randrange(1, 40):02d}",
                done,
                rng.randrange(60, 101),
            ]
        )
        sheet.cell(row=line, column=2).number_format = "@"
        sheet.cell(row=line, column=4).number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def far_row() -> bytes:
    return raw_xlsx(HEADER + inline_row(20_000_000, ROW))


def column_xfd() -> bytes:
    cells = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(2, 3002))
    return raw_xlsx(HEADER + cells)


def unzips_to_190_mib() -> bytes:
    # Valid rows padded with empty cells: about 135 times smaller zipped, under the per-entry
    # ratio check, so only the total unpacked size can refuse it.
    parts, size, n = [HEADER], 0, 2
    while size < 190 * 1024 * 1024:
        row = f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>' + "<c/>" * 420 + "</row>"
        parts.append(row)
        size, n = size + len(row), n + 1
    return raw_xlsx("".join(parts))


def many_entries(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        for i in range(count):
            archive.writestr(f"x/{i}", b"")
    return out.getvalue()


# The files below vary their content just enough to stay under the per-entry ratio check and
# the unpacked-size limit, so that they reach the parser.


def huge_string_table() -> bytes:
    items = b"".join(b"<si><t>%d</t></si>" % n for n in range(1_400_000))
    strings = shared_strings([]).replace(b"</sst>", items + b"</sst>")
    return raw_xlsx(HEADER + '<row r="2"><c r="A2" t="s"><v>1399999</v></c></row>', strings=strings)


def deep_nesting() -> bytes:
    depth = 1_000_000
    opening = "".join(f'<x a="{n}">' for n in range(depth))
    return raw_xlsx(HEADER + '<row r="2">' + opening + "</x>" * depth + "</row>")


def long_cells() -> bytes:
    text = random.Random(2).randbytes(2_500_000).hex()
    return raw_xlsx(HEADER + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>')


def wide_row_of_cells() -> bytes:
    digits = random.Random(3).choices("0123456789", k=2_000_000)
    return raw_xlsx(
        HEADER + '<row r="2">' + "".join(f"<c><v>{d}</v></c>" for d in digits) + "</row>"
    )


def empty_rows() -> bytes:
    return raw_xlsx(
        HEADER + inline_row(2, ROW) + "".join(f'<row r="{n}"/>' for n in range(3, 1_800_003))
    )


def csv_blank_lines() -> bytes:
    return ",".join(CHINESE_HEADER).encode() + b"\r\n" * 5_000_000


def csv_empty_columns() -> bytes:
    return (",".join(CHINESE_HEADER) + "\r\n" + ",".join(ROW) + "," * 100_000 + "\r\n").encode()


def csv_one_line_of_commas() -> bytes:
    return (",".join(CHINESE_HEADER) + "\r\n" + "," * 9_000_000 + "\r\n").encode()


def csv_quoted_line_breaks() -> bytes:
    piece = "," * 16_000 + '"\n"'  # each line under the limit, one record across all of them
    return (",".join(CHINESE_HEADER) + '\r\n"x"' + piece * 560 + "\r\n").encode()


def csv_giant_field() -> bytes:
    return (",".join(CHINESE_HEADER) + '\r\n"' + "x" * 9_000_000 + '",1,2,3,4\r\n').encode()


def _noise(kib: int) -> str:
    # Random text in a comment keeps the compression ratio under the limit, as an attacker does.
    return f"<!-- {random.Random(5).randbytes(kib * 512).hex()} -->"


def one_string_in_every_cell() -> bytes:
    strings = shared_strings(["x" * 32_000])
    row = "".join('<c t="s"><v>0</v></c>' for _ in range(64))
    return raw_xlsx(
        _noise(16) + HEADER + "".join(f'<row r="{n}">{row}</row>' for n in range(2, 5002)),
        strings=strings,
    )


def empty_cells_past_column_64() -> bytes:
    row = "<c/>" * 16_000
    return raw_xlsx(
        _noise(800)
        + HEADER
        + inline_row(2, ROW)
        + "".join(f'<row r="{n}">{row}</row>' for n in range(3, 1203))
    )


CASES = {
    "realistic 50,000 rows": lambda: realistic(50_000),
    "realistic 100,000 rows": lambda: realistic(100_000),
    "row 20,000,000": far_row,
    "3,000 cells in column XFD": column_xfd,
    "unzips to 190 MiB": unzips_to_190_mib,
    "600 zip entries": lambda: many_entries(600),
    "100,000 zip entries": lambda: many_entries(100_000),
    "1,400,000 shared strings": huge_string_table,
    "nested 1,000,000 deep": deep_nesting,
    "a 5,000,000-character cell": long_cells,
    "2,000,000 cells in one row": wide_row_of_cells,
    "1,800,000 empty rows": empty_rows,
    "one 32,000-char string in 320,000 cells": one_string_in_every_cell,
    "19,200,000 empty cells past column 64": empty_cells_past_column_64,
    "CSV: 5,000,000 blank lines": csv_blank_lines,
    "CSV: 100,000 empty columns": csv_empty_columns,
    "CSV: one line of 9,000,000 commas": csv_one_line_of_commas,
    "CSV: 9,000,000 commas, quoted breaks": csv_quoted_line_breaks,
    "CSV: one 9,000,000-character field": csv_giant_field,
}


def child(path: str, filename: str) -> None:
    from app.completions.parsing import UploadRefused, parse_completion_file

    data = Path(path).read_bytes()
    before = _peak_kib()
    started = time.perf_counter()
    try:
        outcome = f"{len(parse_completion_file(filename, data).rows):,} rows"
    except UploadRefused as exc:
        outcome = "refused: " + (exc.message % exc.params if exc.params else exc.message)
    except Exception as exc:  # the figure to watch is also what a crash would look like
        outcome = f"CRASH {type(exc).__name__}: {str(exc)[:80]}"
    seconds = time.perf_counter() - started
    grown = (_peak_kib() - before) / 1024
    print(json.dumps({"seconds": seconds, "mib": grown, "outcome": outcome}))


def _peak_kib() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would start with
    # the parent's peak (the parent builds 190 MiB of XML).
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


def unzipped(data: bytes) -> tuple[int, float]:
    """Unpacked size and the largest per-entry ratio, from the central directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        return 0, 0.0
    return (
        sum(m.file_size for m in members),
        max(m.file_size / max(m.compress_size, 1) for m in members),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    print(
        f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, Python "
        f"{sys.version.split()[0]}"
    )
    print(
        f"{'file':36} {'upload':>9} {'unzipped':>10} {'ratio':>6} {'seconds':>8} {'MiB':>7}  "
        "outcome"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in CASES.items():
            if args.only and args.only not in name:
                continue
            data = build()
            filename = "a.csv" if name.startswith("CSV") else "a.xlsx"
            path = Path(tmp) / filename
            path.write_bytes(data)
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), filename],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
                figures = json.loads(out.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                figures = {"seconds": 300, "mib": float("nan"), "outcome": "over 300 s"}
            except subprocess.CalledProcessError as exc:
                figures = {
                    "seconds": float("nan"),
                    "mib": float("nan"),
                    "outcome": "died: " + exc.stderr.strip()[-80:],
                }
            size, ratio = unzipped(data)
            print(
                f"{name:36} {len(data) / 1024:8,.0f}K {size / 2**20:9,.1f}M {ratio:6.0f} "
                f"{figures['seconds']:8.2f} {figures['mib']:7.0f}  {figures['outcome'][:90]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
