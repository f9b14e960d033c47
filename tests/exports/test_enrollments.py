"""A course's enrollments exported like the other exports (XLSX or CSV, masked or full and
audited), and the course page's enrollment list download writing its cells the same way."""

import json

from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from app.completions.enrollment_list import HEADER
from app.jobs.models import Job
from tests.exports.conftest import (
    HOSTILE,
    csv_rows,
    download,
    export,
    filenames,
    no_formula,
    table,
    workbook,
)
from tests.factories import make_course
from tests.html import field_errors

COMPANY, ID = HEADER.index("工作单位"), HEADER.index("身份证号")


def test_a_courses_enrollments_as_csv_masked(staff_a, session, data):
    code = data["course"].code
    job_page = export(
        staff_a,
        "/staff/exports",
        kind="enrollments",
        course_code=code.lower(),
        format="csv",
        date_from="",
        date_to="",
    )
    response = download(staff_a, job_page)
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert [r[COMPANY] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert not any(n in response.text for n in data["ids"])
    assert filenames(response) == (f"{code}报名名单.csv", f"{code}-enrollments.csv")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "export.create")).one()
    detail = json.loads(event.detail)
    assert (detail["course_code"], detail["id_numbers"], detail["rows"]) == (code, "masked", 12)


def test_a_courses_enrollments_as_xlsx_with_full_id_numbers(staff_a, data):
    job_page = export(
        staff_a,
        "/staff/exports",
        kind="enrollments",
        format="xlsx",
        course_code=data["course"].code,
        full_ids="on",
    )
    response = download(staff_a, job_page)
    book = workbook(response)
    assert book.sheetnames == ["报名名单", "说明"]
    rows = table(book["报名名单"])
    assert rows[0] == HEADER and [r[ID] for r in rows[1:]] == data["ids"]
    assert no_formula(response)


def test_another_universitys_course_is_as_if_there_were_none(staff_b, admin, session, data):
    for code in (data["course"].code, "NO-SUCH-01"):
        response = export(staff_b, "/staff/exports", kind="enrollments", course_code=code)
        assert response.status_code == 422
        assert field_errors(response) == {"course_code": "本校没有该代码的课程"}
    assert session.exec(select(Job)).all() == []
    # An administrator exports any course's.
    job_page = export(admin, "/admin/exports", kind="enrollments", course_code=data["course"].code)
    assert len(table(workbook(download(admin, job_page))["报名名单"])) == 1 + len(HOSTILE)


def test_a_course_code_is_needed_and_an_empty_course_says_so(staff_a, session, data):
    response = export(staff_a, "/staff/exports", kind="enrollments")
    assert field_errors(response) == {"course_code": "请填写要导出报名名单的课程代码"}
    empty = make_course(session, staff_a.university, code="SDUT-EMPTY-01")
    response = export(staff_a, "/staff/exports", kind="enrollments", course_code=empty.code)
    assert field_errors(response) == {"course_code": "该课程还没有人报名，没有可导出的内容"}


def test_the_course_pages_enrollment_list_marks_formula_like_text(staff_a, data):
    response = staff_a.get(f"/staff/courses/{data['course'].code}/enrollments.xlsx")
    sheet = workbook(response).worksheets[0]
    companies = [row[COMPANY] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" and c.quotePrefix for c in companies)
    assert no_formula(response)
    code = data["course"].code
    assert filenames(response) == (f"{code}报名名单.xlsx", f"{code}-enrollments.xlsx")


def test_the_enrollment_list_reads_back_as_it_was_downloaded(client, session, staff_a, data):
    """Our own upload reader takes the file the writer made, before Excel has saved it."""
    content = staff_a.get(f"/staff/courses/{data['course'].code}/enrollments.xlsx").content
    _, token = auth.create_token(
        session, name="t", role="university", university_id=data["course"].university_id
    )
    session.commit()
    answer = client.post(
        "/api/v1/completions?dry_run=true",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("名单.xlsx", content)},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rows"] == len(HOSTILE)  # every trainee's row read, each with its ID number
    assert body["counts"].get("unchanged") == len(HOSTILE)
