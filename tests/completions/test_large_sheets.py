"""Large uploads: 100,000 rows fit, more are refused before they are read, and a large XLSX
read by calamine (in its child process) gives the rows the streaming reader gives.

large_sheets.SMALL is lowered so that small workbooks take calamine's path too: what a test
compares is the two readers, not the size at which one hands over to the other.
"""

import io
import subprocess
from datetime import date, datetime, time

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from app.completions import large_sheets, parsing
from app.completions import xlsx as xlsx_reader
from app.completions.parsing import UploadRefused, parse_completion_file
from tests.completions.uploads import HEADER, ROW, refused
from tests.files import CHINESE_HEADER, inline_row, raw_xlsx, utf8_bom_csv


@pytest.fixture
def children(monkeypatch) -> list:
    """Every sheet goes to calamine; the list names the child processes started."""
    monkeypatch.setattr(large_sheets, "SMALL", 0)
    started: list = []
    real = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(large_sheets.subprocess, "Popen", popen)
    return started


def _book(rows: list[list[object]], *, epoch=None, at: str = "A1") -> bytes:
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    start = sheet[at]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            sheet.cell(row=start.row + r, column=start.column + c, value=value)
    sheet["D2"].number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


MIXED = [
    CHINESE_HEADER + ["备注"],
    ["张三", "370102199001011234", 2026001, datetime(2026, 5, 1), 85.5, True],
    [" 李四 ", "11010519491231002X", "C1", datetime(2026, 5, 2, 14, 30), 90, False],
    ["王五", 370102199001011234, "C1", date(2026, 5, 3), 1e20, time(8, 30)],
    [],
    [None, None, None, None, 0.0025, "备注"],
    ["", "  ", None, -0.0, 100, "x" * 300],
]


@pytest.mark.parametrize(
    "data",
    [
        _book(MIXED),
        _book(MIXED, epoch=CALENDAR_MAC_1904),
        _book(MIXED, at="C3"),  # data away from A1: calamine's rectangle starts there
        _book([[f"c{i}" for i in range(70)], list(range(70))]),  # past the 64 columns read
    ],
    ids=["mixed", "1904", "from C3", "70 columns"],
)
def test_calamine_reads_what_the_streaming_reader_reads(children, data):
    assert list(xlsx_reader.read_records(data)) == _blanked(xlsx_reader.stream_records(data))
    assert children, "the sheet was not read by calamine"


def _blanked(records) -> list:
    """calamine gives a cell of spaces only as "": blank to every check, as the row is."""
    out = []
    for line, cells, numeric in records:
        cells = ["" if not cell.strip() else cell for cell in cells]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            out.append((line, cells, numeric))
    return out


@pytest.mark.parametrize(
    "cell, text",
    [
        ('<c r="B2"><f>A1&amp;"x"</f><v>姓名x</v></c>', '=A1&"x"'),  # a formula is its text
        ('<c r="B2" t="e"><v>#N/A</v></c>', "#N/A"),  # calamine gives ""
        ('<c r="B2" t="inlineStr"><is><t>a_x000D_b</t></is></c>', "a_x000D_b"),
    ],
    ids=["formula", "error", "escape"],
)
def test_what_calamine_reads_otherwise_is_streamed(children, cell, text):
    data = raw_xlsx(HEADER + f'<row r="2"><c r="A2"><v>1</v></c>{cell}</row>')
    assert list(xlsx_reader.read_records(data))[1][1] == ["1", text]


def test_a_sparse_sheet_ends_the_child_at_its_cap_and_is_streamed(children, caplog):
    """A cell in column XFD of 3,000 rows made calamine allocate 1.5 GB in the server."""
    cells = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(2, 3002))
    with caplog.at_level("WARNING", logger=large_sheets.__name__):
        error = refused("a.xlsx", raw_xlsx(HEADER + cells))
    assert error.message == "The file has no data rows below its header"
    assert children
    # The child, not the server, ran into the memory cap, and the stream read the file.
    # (Its own peak cannot be read here: RUSAGE_CHILDREN is the largest child of the whole
    # test run, a browser or a font build as likely as this one.)
    assert "calamine's child ended with" in caplog.text


def test_a_long_cell_is_refused_by_either_reader(children):
    cell = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"x" * 40_000}</t></is></c></row>'
    assert refused("a.xlsx", raw_xlsx(HEADER + cell)).message == parsing.CELL_TOO_LONG
    assert children


def test_rows_over_the_cap_are_refused_before_they_are_read(children, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 5)
    rows = "".join(inline_row(n, ROW) for n in range(2, 40))
    error = refused("a.xlsx", raw_xlsx(HEADER + rows))
    assert error.message == parsing.TOO_MANY_ROWS and error.params == {"max": "5"}
    # Formatted blank rows hold no value: they neither count nor refuse the file.
    blank = "".join(f'<row r="{n}" s="1" customFormat="1"/>' for n in range(10, 200))
    blank += "".join(f'<row r="{n}"><c r="A{n}" s="1"/></row>' for n in range(200, 400))
    data = raw_xlsx(HEADER + "".join(inline_row(n, ROW) for n in range(2, 7)) + blank)
    assert len(parse_completion_file("a.xlsx", data).rows) == 5


def test_a_hundred_thousand_rows_fit_and_one_more_does_not():
    assert parsing.MAX_ROWS == 100_000
    rows = [ROW] * 100_000
    assert len(parse_completion_file("a.csv", utf8_bom_csv(rows)).rows) == 100_000
    over = refused("a.csv", utf8_bom_csv(rows + [ROW]))
    assert over.message == parsing.TOO_MANY_ROWS and over.params == {"max": "100000"}


def test_a_large_workbook_over_the_cap_is_refused_without_reading_it():
    sheet = HEADER + "".join(inline_row(n, ROW) for n in range(2, 100_013))
    with pytest.raises(UploadRefused) as caught:
        parse_completion_file("a.xlsx", raw_xlsx(sheet))
    assert caught.value.params == {"max": "100000"}
