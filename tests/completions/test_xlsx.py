"""The XLSX reader gives each cell as text, as openpyxl's values would read: dates, numbers,
booleans, formulas as their text. Built both by openpyxl and by hand, for what Excel writes
that openpyxl does not (rich text, phonetic runs, shared formulas, cells without addresses)."""

import io
from datetime import date, datetime, time

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from app.completions import xlsx as xlsx_reader
from app.completions.parsing import UploadRefused
from tests.files import cell_styles, raw_xlsx, shared_strings


def _rows(data: bytes) -> list[tuple[int, list[str], set[int]]]:
    """Non-blank rows with trailing empty cells dropped: how wide a row is read is not the point."""
    rows = []
    for line, cells, numeric in xlsx_reader.read_records(data):
        cells = list(cells)
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append((line, cells, set(numeric)))
    return rows


def test_what_openpyxl_writes():
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "课程代码", "结业日期", "成绩", "备注"])
    sheet.append(["张三", "370102199001011234", 2026001, datetime(2026, 5, 1), 85.5, True])
    sheet.append(['=A1&"x"', "11010519491231002X", "C1", datetime(2026, 5, 2, 14, 30), 90, False])
    sheet.append([" 李四 ", None, "C1", date(2026, 5, 3), 1e20, time(8, 30)])
    sheet.append([])
    sheet.append([None, None, None, None, 0.0025, "备注"])
    out = io.BytesIO()
    workbook.save(out)
    assert _rows(out.getvalue()) == [
        (1, ["姓名", "身份证号", "课程代码", "结业日期", "成绩", "备注"], set()),
        (2, ["张三", "370102199001011234", "2026001", "2026-05-01", "85.5", "TRUE"], {2, 4}),
        (3, ['=A1&"x"', "11010519491231002X", "C1", "2026-05-02 14:30:00", "90", "FALSE"], {4}),
        (4, [" 李四 ", "", "C1", "2026-05-03", "100000000000000000000", "08:30:00"], {4}),
        (6, ["", "", "", "", "0.0025", "备注"], {4}),
    ]


def test_what_excel_writes_and_openpyxl_does_not():
    strings = shared_strings(["姓名"]).replace(
        b"</sst>",
        (
            "<si><r><t>张</t></r><r><rPr><b/></rPr><t>三</t></r>"
            '<rPh sb="0" eb="1"><t>ZHANG</t></rPh></si>'
            '<si><t xml:space="preserve"> a_x005F_b </t></si></sst>'
        ).encode(),
    )
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c>'
        '<c r="C2" t="inlineStr"><is><r><t>李</t></r><r><t>四</t></r></is></c></row>'
        '<row r="3"><c r="A3" t="b"><v>1</v></c><c r="B3" t="e"><v>#N/A</v></c>'
        '<c r="C3" t="d"><v>2026-05-01T00:00:00</v></c><c r="D3" t="str"><f>A1&amp;""</f>'
        '<v>姓名</v></c><c r="E3" t="str"><v>abc</v></c></row>'
        '<row r="5"><c r="A5" s="1"><v>44681</v></c><c r="B5" s="2"><v>1.5</v></c>'
        '<c r="C5"><f t="shared" ref="C5:C6" si="0">B5*2</f><v>3</v></c></row>'
        # A formula is never a valid field, so a shared formula's other cells keep the
        # first cell's text rather than be translated (which costs 10 us a cell).
        '<row r="6"><c r="C6"><f t="shared" si="0"/><v>4</v></c><c r="D6"><v></v></c></row>'
        '<row r="7"><c t="inlineStr"><is><t>x</t></is></c><c><v>5</v></c></row>'
        '<row><c r="B8"><v>7</v></c></row>'
    )
    data = raw_xlsx(
        sheet, strings=strings, styles=cell_styles("yyyy-mm-dd", "[h]:mm"), date1904=True
    )
    assert _rows(data) == [
        (1, ["姓名"], set()),
        (2, ["张三", " a_b ", "李四"], set()),
        (3, ["TRUE", "#N/A", "2026-05-01", '=A1&""', "abc"], set()),
        (5, ["2026-05-01", "1 day, 12:00:00", "=B5*2"], set()),
        (6, ["", "", "=B5*2"], set()),
        (7, ["x", "5"], {1}),
        (8, ["", "7"], {1}),
    ]


_cells = st.lists(
    st.tuples(
        st.sampled_from(["", ' r="B2"', ' r="XFD2"', ' r="a2"', ' r="ZZZZ2"', ' r=""', ' r="2"']),
        st.sampled_from(["", "s", "b", "d", "e", "str", "inlineStr", "n", "x"]),
        st.sampled_from(["", ' s="1"', ' s="-1"', ' s="x"', ' s="99"']),
        st.sampled_from(
            [
                "",
                "<v>0</v>",
                "<v>-1</v>",
                "<v>x</v>",
                "<v>1e400</v>",
                "<v>2026-05-01</v>",
                "<v>99999999999</v>",
                "<v></v>",
                "<f>A1</f>",
                '<f t="shared" si="0"/>',
                "<is><t>a</t></is>",
                "<is/>",
                "<v>1</v><v>2</v>",
            ]
        ),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(['<row r="2">', "<row>", '<row r="0">', '<row r="x">']), cells=_cells)
def test_any_cell_is_read_or_refused_never_a_crash(row, cells):
    xml = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        + row
        + "".join(
            f"<c{ref}{f' t={chr(34)}{kind}{chr(34)}' if kind else ''}{style}>{body}</c>"
            for ref, kind, style, body in cells
        )
        + "</row>"
    )
    data = raw_xlsx(xml, strings=shared_strings(["a"]), styles=cell_styles("yyyy-mm-dd"))
    try:
        list(xlsx_reader.read_records(data))
    except UploadRefused:
        pass


def test_chinese_excels_built_in_date_formats_are_dates():
    """Chinese Excel and WPS style a date picked as 2026年5月1日 with built-in format 31 (or
    27-36, 50-58), which the file does not define."""
    styles = (
        b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="4"><xf numFmtId="0"/>'
        b'<xf numFmtId="31"/><xf numFmtId="57"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    sheet = (
        '<row r="1"><c r="A1" s="1"><v>46143</v></c><c r="B1" s="2"><v>46143</v></c>'
        '<c r="C1" s="3"><v>46143</v></c><c r="D1"><v>46143</v></c></row>'
    )
    assert _rows(raw_xlsx(sheet, styles=styles)) == [
        (1, ["2026-05-01", "2026-05-01", "2026-05-01", "46143"], {3})
    ]


def test_openpyxl_parses_through_defusedxml():
    """Uploads are read by our own reader, which refuses any DTD; openpyxl, which writes the
    reports and could read a workbook some day, is protected too (its documentation asks)."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_a_billion_laughs_sheet_is_refused_at_once():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{n} "' + f"&lol{n - 1 if n > 1 else ''};" * 10 + '">'
            for n in range(1, 10)
        )
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with pytest.raises(UploadRefused):
        list(xlsx_reader.read_records(raw_xlsx(laughs.encode())))
