"""Small uploads built to make the parser work hard: each is refused or trimmed at once.

The seconds and megabytes are in bench/hostile_uploads.py; these tests check what such files
are answered with, and that the parser never makes what the file does not hold (the rows of a
gap, the empty cells left of column XFD).
"""

import io
import itertools
import tracemalloc
import zipfile

import pytest
from sqlmodel import select

from app.completions import ooxml, parsing
from app.completions import xlsx as xlsx_reader
from app.completions.models import CompletionBatch
from app.completions.parsing import UploadRefused, parse_completion_file
from tests.completions.uploads import HEADER, ROW, refused, staff_upload
from tests.files import (
    cell_styles,
    csv_text,
    inline_row,
    raw_xlsx,
    shared_strings,
    utf8_bom_csv,
)


def _no_batch(session) -> bool:
    return session.exec(select(CompletionBatch)).first() is None


# --- rows and columns the file does not hold -------------------------------------------------


def test_a_row_twenty_million_lines_down_is_refused(client, session, campus):
    data = raw_xlsx(HEADER + inline_row(20_000_000, ROW))
    assert len(data) < 2048
    response = staff_upload(client, session, campus["a"], "a.xlsx", data)
    assert response.status_code == 422
    assert "第 20000000 行" in response.text and "最后一行" in response.text
    assert _no_batch(session)


def test_the_reader_makes_no_row_of_a_gap():
    records = xlsx_reader.read_records(raw_xlsx(HEADER + inline_row(20_000_000, ROW)))
    with pytest.raises(UploadRefused) as caught:
        next(itertools.islice(records, 1, None))  # no row of the gap comes before the refusal
    assert caught.value.params["line"] == "20000000"


def test_cells_in_column_xfd_are_nobodys_data(client, session, campus):
    cells = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(2, 3002))
    response = staff_upload(client, session, campus["a"], "a.xlsx", raw_xlsx(HEADER + cells))
    assert response.status_code == 422 and "文件表头下方没有数据行" in response.text
    assert _no_batch(session)


def test_rows_are_cut_to_the_width_of_the_header():
    rows = "".join(
        inline_row(n, ROW)[: -len("</row>")] + f'<c r="XFD{n}"><v>1</v></c></row>'
        for n in range(2, 3002)
    )
    tracemalloc.start()
    try:
        parsed = parse_completion_file("a.xlsx", raw_xlsx(HEADER + rows))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(parsed.rows) == 3000 and all(row.original == ROW for row in parsed.rows)
    assert peak < 32 * 2**20  # 16,384 cells a row took over 300 MiB


def test_blank_rows_do_not_count_but_no_row_lies_past_excels_last(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 2)
    # Formatting a template carries far down, and the ",,,," lines Excel's CSV export makes
    # of it, are nobody's data: they neither count nor refuse the file.
    csv_file = utf8_bom_csv([ROW]) + b",,,,\r\n" * 100 + ",".join(ROW).encode()
    assert len(parse_completion_file("a.csv", csv_file).rows) == 2
    styled = raw_xlsx(
        HEADER
        + inline_row(2, ROW)
        + '<row r="60000" s="1" customFormat="1"/>'
        + '<row r="1048576"><c r="A1048576" s="1"/></row>'
    )
    assert len(parse_completion_file("a.xlsx", styled).rows) == 1
    # Rows that hold data count, wherever they are.
    three = raw_xlsx(HEADER + "".join(inline_row(n, ROW) for n in (2, 30_000, 60_000)))
    assert refused("a.xlsx", three).params == {"max": "2"}
    # A row past the last one a sheet has is no Excel file's, blank or not.
    past = raw_xlsx(HEADER + inline_row(2, ROW) + '<row r="1048577"/>')
    assert refused("a.xlsx", past).params == {"line": "1048577", "max": "1048576"}
    # Nor can rows come back up (row 2 again, and again).
    again = raw_xlsx(HEADER + inline_row(2, ROW) + '<row r="2"/>')
    assert refused("a.xlsx", again).message == xlsx_reader.UNREADABLE


def test_blank_lines_over_http(client, session, campus):
    fine = utf8_bom_csv([ROW]) + b"\r\n" * 60_000
    assert staff_upload(client, session, campus["a"], "a.csv", fine).status_code == 200
    endless = utf8_bom_csv([ROW]) + b"\n" * 1_100_000
    response = staff_upload(client, session, campus["a"], "b.csv", endless)
    assert response.status_code == 422 and "最后一行" in response.text


def test_csv_rows_with_endless_empty_columns():
    trimmed = parse_completion_file("a.csv", (csv_text([ROW]) + "," * 300).encode())
    assert trimmed.rows[0].original == ROW
    error = refused("a.csv", (csv_text([ROW]) + "," * 100_000).encode())
    assert error.message == parsing.TOO_MANY_COLUMNS and error.params == {"max": "16384"}
    # The same record, its lines joined by quoted line breaks.
    spread = csv_text([ROW]) + '"x"' + ("," * 10_000 + '"\n"') * 3 + "\r\n"
    assert refused("a.csv", spread.encode()).message == parsing.TOO_MANY_COLUMNS


@pytest.mark.parametrize("length", [40_000, 200_000], ids=["over Excel's", "over csv's limit"])
def test_csv_cells_longer_than_excel_allows(length):
    text = csv_text([["x" * length, *ROW[1:]]])
    assert refused("a.csv", text.encode()).message == parsing.CELL_TOO_LONG


# --- what a sheet may hold -------------------------------------------------------------------


def test_a_cell_longer_than_excel_allows():
    cell = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"x" * 40_000}</t></is></c></row>'
    assert refused("a.xlsx", raw_xlsx(HEADER + cell)).message == parsing.CELL_TOO_LONG


# The next files vary their content enough to stay under the archive's compression ratio.


def test_a_row_with_more_cells_than_excel_has():
    row = '<row r="2">' + "".join(f"<c><v>{n}</v></c>" for n in range(20_000)) + "</row>"
    assert refused("a.xlsx", raw_xlsx(HEADER + row)).message == parsing.TOO_MANY_COLUMNS


def test_deep_nesting_is_refused():
    row = '<row r="2">' + "".join(f'<x a="{n}">' for n in range(100_000)) + "</x>" * 100_000
    row += "</row>"
    assert refused("a.xlsx", raw_xlsx(HEADER + row)).message == xlsx_reader.UNREADABLE


def test_entities_are_refused():
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + HEADER.encode() + b'<row r="2"><c t="inlineStr"><is><t>&a;</t>'
        b"</is></c></row></sheetData></worksheet>"
    )
    assert refused("a.xlsx", raw_xlsx(sheet)).message == xlsx_reader.UNREADABLE


def test_shared_strings_and_styles_beyond_any_workbook_are_refused(monkeypatch):
    sheet = HEADER + '<row r="2"><c r="A2" t="s" s="1"><v>0</v></c></row>'
    strings, styles = shared_strings(["a", "b", "c"]), cell_styles("0", "0.0", "0.00")
    assert parse_completion_file("a.xlsx", raw_xlsx(sheet, strings=strings, styles=styles))
    monkeypatch.setattr(ooxml, "MAX_SHARED_STRINGS", 2)
    assert refused("a.xlsx", raw_xlsx(sheet, strings=strings)).message == xlsx_reader.UNREADABLE
    monkeypatch.setattr(ooxml, "MAX_STYLES", 2)
    assert refused("a.xlsx", raw_xlsx(sheet, styles=styles)).message == xlsx_reader.UNREADABLE


def test_more_sheets_than_parts_are_refused():
    sheets = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i + 10}"/>' for i in range(600))
    workbook = raw_xlsx(HEADER + inline_row(2, ROW))
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        parts = {m.filename: archive.read(m) for m in archive.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<sheets>", b"<sheets>" + sheets.encode()
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    assert refused("a.xlsx", out.getvalue()).message == xlsx_reader.TOO_MANY_PARTS


def test_a_required_column_beyond_the_columns_read_is_named_so():
    header = [f"备注{n}" for n in range(70)] + ["身份证号", "课程代码", "结业日期"]
    error = refused("a.csv", utf8_bom_csv([ROW], header=header))
    assert error.params["max"] == str(parsing.MAX_COLUMNS) and "身份证号" in error.params["columns"]


# --- work and memory that the bytes do not show (a second attack run) ------------------------


def _noise(kib: int) -> str:
    """Random text in a comment, as an attacker adds it to keep the compression ratio low."""
    import os

    return f"<!-- {os.urandom(kib * 512).hex()} -->"


def test_one_shared_string_referenced_by_every_cell_is_refused_before_it_costs_memory():
    from tests.files import shared_strings

    cells = "".join('<c t="s"><v>0</v></c>' for _ in range(64))
    rows = "".join(f'<row r="{n}">{cells}</row>' for n in range(2, 1200))
    data = raw_xlsx(HEADER + rows, strings=shared_strings(["x" * 32_000]))
    assert len(data) < 64 * 1024
    tracemalloc.start()
    try:
        error = refused("a.xlsx", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.message == ooxml.TOO_MUCH and peak < 100 * 2**20  # it took 2 GB


def test_one_shared_formula_referenced_by_every_cell_is_refused_too():
    first = f'<c r="A2"><f t="shared" si="0" ref="A2:A9999">{"A" * 32_000}</f><v>1</v></c>'
    rows = "".join(
        f'<row r="{n}">' + '<c><f t="shared" si="0"/><v>1</v></c>' * 64 + "</row>"
        for n in range(3, 1200)
    )
    data = raw_xlsx(_noise(64) + HEADER + f'<row r="2">{first}</row>' + rows)
    assert refused("a.xlsx", data).message == ooxml.TOO_MUCH


def test_millions_of_empty_cells_are_refused_at_the_element_budget(monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_ELEMENTS", 10_000)  # the same path as 3 million, quicker
    rows = "".join(f'<row r="{n}">' + "<c/>" * 1000 + "</row>" for n in range(2, 40))
    assert refused("a.xlsx", raw_xlsx(_noise(8) + HEADER + rows)).message == ooxml.TOO_MUCH


@pytest.mark.parametrize(
    "sheet",
    [
        '<row r="2"><c t="n"><row/><v>1</v></c></row>',
        '<row r="2"><c t="inlineStr"><is><row r="3"/></is></c></row>',
        '<row r="2"><c t="n"><c t="n"><v>1</v></c></c></row>',
    ],
)
def test_elements_where_no_spreadsheet_puts_them_are_unreadable_not_a_crash(sheet):
    assert refused("a.xlsx", raw_xlsx(HEADER + sheet)).message == xlsx_reader.UNREADABLE


def test_a_shared_string_item_inside_another_is_unreadable():
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><si><t>a<si/>b</t></si></sst>'
    )
    data = raw_xlsx(HEADER + '<row r="2"><c t="s"><v>0</v></c></row>', strings=strings)
    assert refused("a.xlsx", data).message == xlsx_reader.UNREADABLE
