import codecs
import io
import random
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.completions import parsing
from app.completions import xlsx as xlsx_reader
from app.completions.checks import NUMERIC_ID, Refusal, check_row, parse_date, parse_score
from app.completions.parsing import UploadRefused, parse_completion_file
from tests.files import ENGLISH_HEADER, csv_text, gbk_csv, utf8_bom_csv, xlsx

ID_X = "11010519491231002X"
ID_A = "370102199001011234"
ROW_A = ["张三", ID_A, "C2026001", "2026-05-01", "85"]
ROW_B = ["阿依古丽·买买提", ID_X, "C2026001", "2026/5/1", ""]


def refused(filename: str, data: bytes, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        parse_completion_file(filename, data, **kwargs)
    return caught.value


def numeric_id_refused(row) -> bool:
    """Whether the row's checks refuse its ID cell as a number Excel may have changed."""
    return check_row(row, {}, date(2026, 6, 1)) == Refusal("id_number", NUMERIC_ID)


# --- CSV as Chinese Excel writes it ----------------------------------------------------------


def test_gbk_csv_from_chinese_excel():
    data = gbk_csv([ROW_A, ROW_B])
    assert b"\r\n" in data and not data.startswith(codecs.BOM_UTF8)

    parsed = parse_completion_file("结业名单.csv", data)

    assert (parsed.format, parsed.encoding) == ("csv", "gb18030")
    assert parsed.header == ["姓名", "身份证号", "课程代码", "结业日期", "成绩"]
    assert [row.line for row in parsed.rows] == [2, 3]
    assert parsed.rows[1].values == {
        "name": "阿依古丽·买买提",
        "id_number": ID_X,
        "course_code": "C2026001",
        "completed_on": "2026/5/1",
        "score": "",
    }
    assert not any(numeric_id_refused(row) for row in parsed.rows)


def test_gbk_cannot_hold_rare_characters_so_excel_writes_question_marks():
    # 䶮 and 𠮷 are outside GBK: "CSV (逗号分隔)" loses them before we see the file.
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    parsed = parse_completion_file("a.csv", gbk_csv([["刘䶮", ID_A, "C1", "2026-05-01", ""]]))
    assert parsed.rows[0].values["name"] == "刘?"


def test_gb18030_file_keeps_extension_plane_names():
    data = csv_text(
        [["吉𠮷", ID_A, "C1", "2026-05-01", ""], ["刘䶮", ID_X, "C1", "2026-05-01", ""]]
    )
    parsed = parse_completion_file("a.csv", data.encode("gb18030"))
    assert parsed.encoding == "gb18030"
    assert [row.values["name"] for row in parsed.rows] == ["吉𠮷", "刘䶮"]


def test_utf8_bom_csv():
    parsed = parse_completion_file("a.csv", utf8_bom_csv([ROW_A, ["吉𠮷", *ROW_B[1:]]]))
    assert parsed.encoding == "utf-8-sig"
    assert parsed.header[0] == "姓名"  # no BOM glued to the first column's name
    assert parsed.rows[1].values["name"] == "吉𠮷"


def test_plain_utf8_csv_with_english_header():
    data = csv_text([ROW_A], ENGLISH_HEADER).replace("\r\n", "\n").encode()
    parsed = parse_completion_file("export.csv", data)
    assert parsed.encoding == "utf-8"
    assert parsed.rows[0].values["id_number"] == ID_A


def test_semicolon_csv_and_full_width_comma_inside_a_cell():
    data = csv_text([["张三，李四", ID_A, "C1", "2026-05-01", "90"]], delimiter=";").encode()
    row = parse_completion_file("a.csv", data).rows[0]
    assert row.values["name"] == "张三，李四"
    assert row.values["score"] == "90"


def test_utf16_unicode_text_is_tab_separated():
    data = codecs.BOM_UTF16_LE + csv_text([ROW_A], delimiter="\t").encode("utf-16-le")
    parsed = parse_completion_file("a.txt", data)
    assert parsed.encoding == "utf-16"
    assert parsed.rows[0].values["name"] == "张三"


def test_blank_rows_are_skipped_and_lines_match_excel():
    text = csv_text(
        [ROW_A, ["", "", "", "", ""], ["吉𠮷\n(second line)", ID_X, "C1", "2026-05-01", ""]]
    )
    parsed = parse_completion_file(
        "a.csv", (text + ",,,,\r\n\r\n" + text.split("\r\n")[1]).encode()
    )
    # The quoted two-line cell is one Excel row: counting physical lines would say 8, not 7.
    assert [row.line for row in parsed.rows] == [2, 4, 7]


def test_title_row_above_header_and_extra_columns():
    text = "2026年结业学员名单,,,\r\n" + csv_text(
        [[ID_A, "C1", "2026-05-01", "备注"]], ["身份证号", "课程代码", "结业日期", "备注"]
    )
    parsed = parse_completion_file("a.csv", text.encode("gb18030"))
    row = parsed.rows[0]
    assert (row.line, row.values["id_number"]) == (3, ID_A)
    assert "备注" not in row.values.values() and row.original[-1] == "备注"


@pytest.mark.parametrize(
    "header",
    [
        [" 身份证号码 ", "课程编号", "结业时间"],
        ["证件号码", "课程代码*", "完成日期（yyyy-mm-dd）"],
        ["ID Number", "Course Code", "Completion Date"],
        ["IDCARD", "COURSE_CODE", "completed_on"],
        ["\u3000身份证号\u3000", "ｃｏｕｒｓｅ＿ｃｏｄｅ", "结业日期"],
    ],
)
def test_header_variants(header):
    parsed = parse_completion_file("a.csv", utf8_bom_csv([[ID_A, "C1", "2026-05-01"]], header))
    assert parsed.rows[0].values == {
        "id_number": ID_A,
        "course_code": "C1",
        "completed_on": "2026-05-01",
    }


def test_missing_required_column_is_named():
    error = refused(
        "a.csv", gbk_csv([["张三", ID_A, "2026-05-01"]], ["姓名", "身份证号", "结业日期"])
    )
    assert "课程代码" in error.params["columns"] and "course_code" in error.params["columns"]
    assert "id_number" not in error.params["columns"]


def test_two_columns_for_the_same_field_are_refused():
    error = refused(
        "a.csv",
        gbk_csv(
            [[ID_A, ID_A, "C1", "2026-05-01"]], ["身份证号", "证件号码", "课程代码", "结业日期"]
        ),
    )
    assert error.params["columns"] == "身份证号, 证件号码"


def test_id_mangled_by_excel_and_id_protected_for_excel():
    rows = [
        ["张三", "3.70102E+17", "C1", "2026-05-01", ""],
        ["李四", f'="{ID_X}"', "C1", "2026-05-01", ""],
    ]
    parsed = parse_completion_file("a.csv", gbk_csv(rows))
    assert numeric_id_refused(parsed.rows[0])
    assert parsed.rows[1].values["id_number"] == ID_X and not numeric_id_refused(parsed.rows[1])


def test_explicit_encoding_overrides_and_wrong_one_is_refused():
    data = gbk_csv([ROW_A])
    assert parse_completion_file("a.csv", data, encoding="GBK").encoding == "gbk"
    assert refused("a.csv", data, encoding="utf-8").params == {"encoding": "utf-8"}
    assert refused("a.csv", data, encoding="klingon").params == {"encoding": "klingon"}


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 2)
    assert len(parse_completion_file("a.csv", gbk_csv([ROW_A, ROW_B])).rows) == 2
    assert refused("a.csv", gbk_csv([ROW_A, ROW_B, ROW_A])).params == {"max": "2"}


@pytest.mark.parametrize(
    "data",
    [b"", b" \r\n", gbk_csv([]), b"\r\n,,,,\r\n"],
    ids=["empty", "whitespace", "header only", "blank rows only"],
)
def test_files_without_rows_are_refused(data):
    refused("a.csv", data)


def test_binary_that_is_neither_zip_nor_text_is_refused():
    noise = random.Random(7).randbytes(4096)
    assert "encoding" in refused("photo.csv", noise).message
    refused("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_old_xls_and_password_protected_xlsx_are_refused():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert (
        refused("名单.xls", ole2).message
        == "Old .xls files are not supported: save as .xlsx or CSV"
    )
    assert "password" in refused("名单.xlsx", ole2).message


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_with_text_ids():
    parsed = parse_completion_file("名单.xlsx", xlsx([ROW_A, ROW_B]))
    assert (parsed.format, parsed.encoding) == ("xlsx", None)
    assert parsed.rows[1].values["id_number"] == ID_X
    assert not any(numeric_id_refused(row) for row in parsed.rows)


def test_xlsx_numeric_id_cell_is_a_row_error_and_numeric_course_code_is_fine():
    rows = [["张三", ID_A, 2026001, "2026-05-01", 85.5], ["李四", ID_X, "C1", "2026-05-01", 90]]
    parsed = parse_completion_file("名单.xlsx", xlsx(rows, id_as_text=False))
    first, second = parsed.rows
    assert first.id_is_number and numeric_id_refused(first)
    assert (first.values["course_code"], first.values["score"]) == ("2026001", "85.5")
    # An ID with X stays text.
    assert not numeric_id_refused(second) and second.values["score"] == "90"


def test_xlsx_date_and_formula_cells():
    rows = [
        ["=A1", ID_A, "C1", datetime(2026, 5, 1), 80],
        ["李四", ID_X, "C1", datetime(2026, 5, 2, 14, 30), ""],
    ]
    first, second = parse_completion_file("a.xlsx", xlsx(rows)).rows
    assert first.values["name"] == "=A1"
    assert first.values["completed_on"] == "2026-05-01"
    assert parse_date(second.values["completed_on"]) == date(2026, 5, 2)


def test_xlsx_blank_rows_keep_excel_line_numbers():
    parsed = parse_completion_file(
        "a.xlsx", xlsx([ROW_A, [None] * 5, ["", " ", None, None, None], ROW_B])
    )
    assert [row.line for row in parsed.rows] == [2, 5]
    assert parsed.rows[0].original == ROW_A


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _no_unzipping(monkeypatch):
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompressed"))


def test_zip_bomb_is_refused_before_anything_is_unpacked(monkeypatch):
    bomb = _zip(
        {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": bytes(50 * 1024 * 1024)}
    )
    assert len(bomb) < 100_000
    _no_unzipping(monkeypatch)
    assert "too large" in refused("a.xlsx", bomb).message


def test_too_many_entries_or_too_much_data_is_refused(monkeypatch):
    many = _zip(
        {f"xl/{i}.xml": b"" for i in range(500)} | {"xl/workbook.xml": b""}, zipfile.ZIP_STORED
    )
    big = _zip({"xl/workbook.xml": random.Random(1).randbytes(2000)})
    _no_unzipping(monkeypatch)
    assert refused("a.xlsx", many).params == {"max": "500"}
    monkeypatch.setattr(xlsx_reader, "MAX_UNZIPPED", 1000)
    assert "too large" in refused("a.xlsx", big).message


@pytest.mark.parametrize(
    "data",
    [
        _zip({"word/document.xml": b"<w/>"}),
        _zip({"xl/workbook.xml": b"not xml at all"}),
        xlsx([ROW_A])[:-200],
        b"PK\x03\x04" + bytes(100),
    ],
    ids=["docx-like", "broken workbook", "truncated", "garbage after magic"],
)
def test_damaged_or_foreign_zips_are_refused(data):
    refused("a.xlsx", data)


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-01",
        "2026-5-1",
        "2026/5/1",
        "2026.5.1",
        "2026年5月1日",
        "２０２６年５月１日",
        "20260501",
        "2026-05-01 00:00:00",
        "2026-05-01T08:30:00",
        " 2026/05/01 ",
    ],
)
def test_parse_date_accepts(text):
    assert parse_date(text) == date(2026, 5, 1)


@pytest.mark.parametrize(
    "text", ["", "2026-02-30", "2026-13-01", "2026-5/1", "May 1, 2026", "46143", "26-5-1"]
)
def test_parse_date_refuses(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    "text, score",
    [
        ("", None),
        ("  ", None),
        ("85", Decimal(85)),
        ("85.5", Decimal("85.5")),
        ("８５", Decimal(85)),
        ("１００", Decimal(100)),
        ("0", Decimal(0)),
        ("85.50", Decimal("85.5")),
        ("92分", Decimal(92)),
    ],
)
def test_parse_score_accepts(text, score):
    assert parse_score(text) == score


@pytest.mark.parametrize("text", ["101", "100.5", "-1", "85.55", "abc", "优秀", "8 5", "1e2"])
def test_parse_score_refuses(text):
    with pytest.raises(ValueError):
        parse_score(text)


# --- properties ------------------------------------------------------------------------------

names = st.text(st.characters(categories=["Lo", "Lu", "Ll"]), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(names, min_size=1, max_size=5),
    encoding=st.sampled_from(["utf-8-sig", "gb18030"]),
)
def test_any_name_survives_a_round_trip(names, encoding):
    text = csv_text([[name, ID_A, "C1", "2026-05-01", ""] for name in names])
    parsed = parse_completion_file("a.csv", text.encode(encoding))
    assert parsed.encoding == encoding
    assert [row.values["name"] for row in parsed.rows] == names
