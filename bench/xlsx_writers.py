"""XLSX writers on one table: app/exports/sheets.py (hand-made SpreadsheetML) against XlsxWriter
in constant_memory mode, the same 100,000 rows x 8 columns of strings, in one run.

    .venv/bin/pip install XlsxWriter   # not a dependency: only this measurement uses it
    .venv/bin/python bench/xlsx_writers.py [--rows 100000]

The rows are built in memory (no database), as a completions export holds them: a Chinese
name, a masked ID number, a company (one in 500 named like a formula, =1+1 or ＝SUM(A1)), a
city, a university, a course code, a completion date, a certificate serial (blank for 70%).
Each writer runs in a child process of its own, so its peak RSS (ru_maxrss) is its own;
"before" is the child's RSS with the rows built. Every writer writes the cells as sheets.py
does (app/exports/cells.py): text in the text format "@", formula-like text with the quote
prefix too, a bold header, the header row frozen, column widths; an empty cell written as
nothing. The file is written into memory (io.BytesIO) and read back once with openpyxl to
check the formats (outside the timing). Prints seconds, microseconds a cell, file size and
peak RSS; asserts nothing.

| writer | what is timed |
|---|---|
| sheets.write_xlsx, rows | `sheets.write_xlsx` over a Table of the rows (cells.xlsx_cells per row) |
| sheets.render + join | the export job's way: `sheets.render` per part of 5,000 rows, then the parts joined by `sheets.write_xlsx` (rendered=...) |
| XlsxWriter | `Workbook(out, {"constant_memory": True})`, `write_string` per cell with the text or quoted format (`cells.plain`, `cells.xml_text`, `cells.formula_like`), `set_column`, `freeze_panes(1, 0)` |
| XlsxWriter, bare | XlsxWriter's floor: the same, but `write_string` in the text format with no check per cell (no quote prefix: not a writer we could use, only the library's own cost) |
"""

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WRITERS = ("sheets", "sheets_parts", "xlsxwriter", "xlsxwriter_bare")
HEADER = ["姓名", "身份证号", "企业", "城市", "高校", "课程", "完成日期", "证书编号"]
WIDTHS = (10, 20, 30, 8, 16, 12, 12, 22)
CITIES = ("济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市")
SURNAMES, GIVEN = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭",
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚",
)


def build_rows(n: int) -> list[list[str]]:
    rng = random.Random(7)
    rows = []
    for i in range(1, n + 1):
        given = "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        company = f"山东{rng.choice(GIVEN)}{rng.choice(GIVEN)}科技有限公司"
        if i % 500 == 0:
            company = "=1+1" if i % 1000 else "＝SUM(A1)"
        u = rng.randint(1, 20)
        rows.append(
            [
                rng.choice(SURNAMES) + given,
                f"3701{rng.randint(10, 99)}********{rng.randint(0, 9999):04d}",
                company,
                rng.choice(CITIES),
                f"山东第{u}高校",
                f"U{u:03d}-C{rng.randint(1, 2)}",
                f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                f"DL2026-{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.3 else "",
            ]
        )
    return rows


def write_sheets(out: io.BytesIO, rows: list[list[str]]) -> None:
    from app.exports import sheets

    sheets.write_xlsx(out, [sheets.Table("Completions", HEADER, rows, WIDTHS)])


def write_sheets_parts(out: io.BytesIO, rows: list[list[str]]) -> None:
    from app.exports import sheets

    parts = [sheets.render(rows[i : i + 5000], "xlsx") for i in range(0, len(rows), 5000)]
    table = sheets.Table("Completions", HEADER, widths=WIDTHS, rendered=parts)
    sheets.write_xlsx(out, [table])


def write_xlsxwriter(out: io.BytesIO, rows: list[list[str]]) -> None:
    import xlsxwriter

    from app.exports import cells

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    text = workbook.add_format({"num_format": "@"})
    quoted = workbook.add_format({"num_format": "@", "quote_prefix": True})
    bold = workbook.add_format({"num_format": "@", "bold": True})
    bold_quoted = workbook.add_format({"num_format": "@", "bold": True, "quote_prefix": True})
    sheet = workbook.add_worksheet("Completions")
    for n, width in enumerate(WIDTHS):
        sheet.set_column(n, n, width)
    sheet.freeze_panes(1, 0)

    def put(r: int, values, plain_format, quoted_format) -> None:
        for c, value in enumerate(values):
            shown = cells.plain(value)
            if isinstance(shown, int):
                sheet.write_number(r, c, shown)
            elif shown:
                fmt = quoted_format if cells.formula_like(shown) else plain_format
                sheet.write_string(r, c, cells.xml_text(shown), fmt)

    put(0, HEADER, bold, bold_quoted)
    for r, row in enumerate(rows, start=1):
        put(r, row, text, quoted)
    workbook.close()


def write_xlsxwriter_bare(out: io.BytesIO, rows: list[list[str]]) -> None:
    """XlsxWriter's own floor: write_string in the text format, nothing checked per cell."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"num_format": "@", "bold": True})
    sheet = workbook.add_worksheet("Completions")
    for n, width in enumerate(WIDTHS):
        sheet.set_column(n, n, width)
    sheet.freeze_panes(1, 0)
    for c, value in enumerate(HEADER):
        sheet.write_string(0, c, value, bold)
    write = sheet.write_string
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value:
                write(r, c, value, text)
    workbook.close()


FUNCTIONS = {
    "sheets": write_sheets,
    "sheets_parts": write_sheets_parts,
    "xlsxwriter": write_xlsxwriter,
    "xlsxwriter_bare": write_xlsxwriter_bare,
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(writer: str, n: int) -> dict:
    import xlsxwriter  # noqa: F401  (imported before "before", as the app would have it)

    from app.exports import sheets  # noqa: F401

    rows = build_rows(n)
    before = _rss_mb()
    out = io.BytesIO()
    started = time.perf_counter()
    FUNCTIONS[writer](out, rows)
    seconds = time.perf_counter() - started
    rss = _rss_mb()
    return {"seconds": seconds, "bytes": len(out.getvalue()), "rss": rss, "before": before}


def check(writer: str) -> str:
    """A small file read back with openpyxl: formats, the quote prefix, the frozen header."""
    from openpyxl import load_workbook

    rows = build_rows(1000)
    out = io.BytesIO()
    FUNCTIONS[writer](out, rows)
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    cell = ws.cell(row=501, column=3)
    quoted = writer == "xlsxwriter_bare" or cell.quotePrefix  # the bare one has no prefix
    ok = (
        cell.value == "=1+1"
        and cell.data_type == "s"
        and quoted
        and cell.number_format == "@"
        and ws["A1"].font.b
        and ws.freeze_panes == "A2"
        and ws.max_row == 1001
    )
    return "read back ok" if ok else "READ BACK DIFFERS"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows)))
        return
    cells_count = args.rows * len(HEADER)
    print(f"{args.rows:,} rows x {len(HEADER)} columns ({cells_count:,} cells)")
    print(f"{'writer':<16} {'seconds':>8} {'µs/cell':>8} {'file MB':>8} {'before':>7} {'peak':>7}")
    for writer in WRITERS:
        done = subprocess.run(
            [sys.executable, __file__, "--child", writer, "--rows", str(args.rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout)
        print(
            f"{writer:<16} {r['seconds']:8.2f} {r['seconds'] / cells_count * 1e6:8.2f} "
            f"{r['bytes'] / 1e6:8.1f} {r['before']:6.0f}M {r['rss']:6.0f}M  {check(writer)}"
        )


if __name__ == "__main__":
    main()
