"""The upload templates as staff download them, read back the way Excel and our upload read them."""

import codecs
import io
import re
from datetime import timedelta
from urllib.parse import quote

import openpyxl
import pytest
from openpyxl.styles.numbers import is_date_format
from starlette.requests import Request

from app import clock
from app.auth import service as auth
from app.companies.validators import normalize_uscc
from app.completions.parsing import parse_completion_file
from app.trainees import validators
from app.web import templates
from tests.factories import make_course, make_enrollment

COMPLETIONS = ["姓名", "身份证号", "课程代码", "结业日期", "成绩"]
ROSTER = [
    "姓名",
    "身份证号",
    "手机号",
    "工作单位统一社会信用代码",
    "工作单位名称",
    "课程代码",
    "结业日期",
    "成绩",
]
XLSX = "/staff/uploads/template/completions.xlsx"


def _workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.text
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _table(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _api_upload(client, session, university, filename: str, content: bytes) -> dict:
    _, token = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    response = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (filename, content)},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def codes(session, university_a, university_b):
    make_course(session, university_b, code="QDU-ONLY")
    return {make_course(session, university_a, code=c).code for c in ("SDUT-01", "SDUT-02")}


def test_completions_template_is_a_workbook_excel_keeps_digits_in(staff_a, codes):
    response = staff_a.get(XLSX)
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="completions-template.xlsx"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("结业记录模板.xlsx"))
    workbook = _workbook(response)
    sheet = workbook.worksheets[0]
    header, example = _table(sheet)
    assert header == COMPLETIONS
    assert example[:3] == ["张三", "11010519491231002X", "示例：请删除此行"]
    assert validators.parse_id_number(example[1]).number == example[1]  # a valid sample
    # The ID column is text for the example and for every row a clerk adds below it.
    assert sheet.column_dimensions["B"].number_format == "@"
    assert sheet["B2"].number_format == "@" and sheet["B2"].data_type == "s"
    assert is_date_format(sheet.column_dimensions["D"].number_format)
    assert is_date_format(sheet["D2"].number_format) and sheet["D2"].is_date
    assert all(cell.comment and cell.comment.text.strip() for cell in sheet[1])
    assert "身份证号" in sheet["B1"].comment.text and "文本" in sheet["B1"].comment.text
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20  # 18 characters shown whole


def test_course_code_list_holds_exactly_this_universitys_codes(staff_a, codes):
    sheet = _workbook(staff_a.get(XLSX)).worksheets[0]
    (rule,) = sheet.data_validations.dataValidation
    assert rule.type == "list" and str(rule.sqref) == "C2:C1048576"
    assert set(rule.formula1.strip('"').split(",")) == codes  # QDU-ONLY is not offered


def test_many_course_codes_go_to_a_hidden_sheet_after_the_one_uploads_read(
    staff_a, session, university_a, university_b
):
    make_course(session, university_b, code="QDU-ONLY")
    codes = {
        make_course(session, university_a, code=f"SDUT-DIGITAL-DESIGN-{n:03d}").code
        for n in range(20)
    }
    response = staff_a.get(XLSX)
    workbook = _workbook(response)
    data, hidden = workbook.worksheets
    (rule,) = data.data_validations.dataValidation
    assert len(",".join(codes)) > 255 and rule.formula1 == "CourseCodes"
    ((sheet_name, cells),) = workbook.defined_names["CourseCodes"].destinations
    assert sheet_name == hidden.title and cells == f"$A$1:$A${len(codes)}"
    assert hidden.sheet_state == "hidden"
    assert {row[0] for row in _table(hidden)} == codes
    # The upload reads the first sheet: the codes sheet is never taken for completions.
    assert parse_completion_file("t.xlsx", response.content).header == COMPLETIONS


def test_roster_template_columns_and_formats(staff_a, codes):
    response = staff_a.get("/staff/uploads/template/roster.xlsx")
    assert 'filename="roster-template.xlsx"' in response.headers["content-disposition"]
    sheet = _workbook(response).worksheets[0]
    header, example = _table(sheet)
    assert header == ROSTER
    for letter in "BCD":  # ID number, mobile, USCC
        assert sheet.column_dimensions[letter].number_format == "@"
        assert sheet[f"{letter}2"].data_type == "s"
    assert is_date_format(sheet.column_dimensions["G"].number_format)
    assert validators.normalize_mobile(example[2]) == example[2]
    assert normalize_uscc(example[3]) == example[3]
    (rule,) = sheet.data_validations.dataValidation
    assert str(rule.sqref) == "F2:F1048576"
    assert set(rule.formula1.strip('"').split(",")) == codes


@pytest.mark.parametrize(("kind", "header"), [("completions", COMPLETIONS), ("roster", ROSTER)])
def test_csv_templates_are_utf8_with_a_bom(staff_a, codes, kind, header):
    response = staff_a.get(f"/staff/uploads/template/{kind}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{kind}-template.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(codecs.BOM_UTF8)
    lines = response.content[len(codecs.BOM_UTF8) :].decode("utf-8").split("\r\n")
    assert lines[0] == ",".join(header) and lines[2] == ""
    assert "11010519491231002X" in lines[1] and "2026-05-01" in lines[1]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_parser_reads_the_template_header(staff_a, codes, fmt):
    content = staff_a.get(f"/staff/uploads/template/completions.{fmt}").content
    parsed = parse_completion_file(f"template.{fmt}", content)
    assert parsed.header == COMPLETIONS
    assert parsed.encoding == (None if fmt == "xlsx" else "utf-8-sig")  # read by its BOM
    ((row),) = parsed.rows
    assert row.values["id_number"] == "11010519491231002X" and not row.id_is_number
    assert row.values["completed_on"] == "2026-05-01"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_uploaded_as_is_refuses_the_example_row_by_its_course_code(
    client, session, staff_a, codes, fmt
):
    content = staff_a.get(f"/staff/uploads/template/completions.{fmt}").content
    body = _api_upload(client, session, staff_a.university, f"t.{fmt}", content)
    assert (body["rows"], body["accepted"], body["rejected"]) == (1, 0, 1)
    assert body["errors"][0]["row"] == 2 and body["errors"][0]["field"] == "course_code"


def test_filled_template_saves_the_rows_below_a_forgotten_example(
    client, session, staff_a, university_a
):
    course = make_course(session, university_a, code="SDUT-01")
    _, id_number = make_enrollment(session, course, name="李四")
    response = staff_a.get(XLSX)
    workbook = _workbook(response)
    sheet = workbook.worksheets[0]
    done = clock.today() - timedelta(days=1)
    sheet.append(["李四", id_number, "SDUT-01", done, 88])  # the clerk's row under the example
    out = io.BytesIO()
    workbook.save(out)
    body = _api_upload(client, session, university_a, "filled.xlsx", out.getvalue())
    assert (body["rows"], body["accepted"], body["rejected"]) == (2, 1, 1)
    assert body["errors"][0]["row"] == 2


def test_templates_are_for_staff_only(anonymous, admin, staff_a, codes):
    login = anonymous.get(XLSX, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")
    refused = admin.get(XLSX)  # an administrator has no university, so no course codes
    assert refused.status_code == 403
    assert "仅高校工作人员可执行此操作" in refused.text
    for path in ("/staff/uploads/template/other.xlsx", "/staff/uploads/template/completions.pdf"):
        assert staff_a.get(path).status_code == 404


def test_the_upload_page_partial_links_to_every_template(web_app, staff_a, codes):
    scope = {
        "type": "http",
        "app": web_app,
        "router": web_app.router,
        "method": "GET",
        "path": "/staff/uploads",
        "headers": [],
        "query_string": b"",
        "scheme": "http",
        "server": ("testserver", 80),
        "root_path": "",
    }
    partial = templates.env.get_template("completions/_downloads.html")
    links = re.findall(r'href="([^"]+)"', partial.render(request=Request(scope)))
    assert sorted(links) == sorted(
        f"/staff/uploads/template/{kind}.{fmt}"
        for kind in ("completions", "roster")
        for fmt in ("xlsx", "csv")
    )
    for link in links:
        assert staff_a.get(link).status_code == 200
