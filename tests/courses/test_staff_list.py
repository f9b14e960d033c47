"""The staff course page lists each trainee's state: enrolled, completed (with the date),
certified (with the serial and its page), revoked, and a reissue with what it replaced;
filters by completion date and state narrow it, and a bad filter is a field error."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app import clock
from app.enrollments.models import Enrollment
from tests import files
from tests.certificates import issued
from tests.completions.uploads import upload_and_save
from tests.factories import (
    login,
    make_course,
    make_enrollment,
    make_university,
    make_user,
    withdraw,
)
from tests.html import field_errors, page

EARLY = clock.today() - timedelta(days=20)
LATE = clock.today() - timedelta(days=2)


def _upload(client, course, rows):
    content = files.xlsx([[n, i, course.code, d.isoformat(), "90"] for n, i, d in rows])
    assert "已保存" in upload_and_save(client, "a.xlsx", content).text


@pytest.fixture
def roster(client, session):
    """Seven trainees in every state a course page shows."""
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-LIST-01")
    login(client, make_user(session, university=university))
    ids = {n: make_enrollment(session, course, name=n)[1] for n in ("甲", "乙", "丙", "丁", "戊")}
    ids["己"] = make_enrollment(session, course, name="己")[1]
    left, _ = make_enrollment(session, course, name="庚")
    withdraw(session, left)
    session.commit()
    _upload(client, course, [("乙", ids["乙"], EARLY), ("丙", ids["丙"], EARLY)])
    _upload(client, course, [("丁", ids["丁"], LATE), ("戊", ids["戊"], LATE)])
    issued.issue(client, course)
    certs = issued.by_holder(session)
    issued.revoke(client, certs["丙"].serial, "结业记录录入有误")
    issued.reissue(client, certs["丁"].serial)
    _upload(client, course, [("己", ids["己"], LATE)])  # completed after the certificates
    return {"course": course, "old": certs, "now": issued.by_holder(session)}


def _rows(response) -> dict[str, dict]:
    found = {}
    for tr in page(response).select("#trainees tbody tr"):
        cells = tr.select("td")
        box = cells[0].select_one("input[type=checkbox]")
        found[cells[1].get_text(strip=True)] = {
            "state": cells[5].get_text(strip=True),
            "completed": cells[6].get_text(strip=True),
            "certificate": cells[7].get_text(" ", strip=True),
            "links": [a["href"] for a in cells[7].select("a")],
            "box": box["value"] if box else None,
        }
    return found


def test_each_trainee_s_state_with_its_date_serial_and_history(client, session, roster):
    course, old, now = roster["course"], roster["old"], roster["now"]
    shown = client.get(f"/staff/courses/{course.code}")
    assert shown.status_code == 200
    rows = _rows(shown)
    assert {n: r["state"] for n, r in rows.items()} == {
        "甲": "已报名",
        "乙": "已发证",
        "丙": "证书已撤销",
        "丁": "已发证",
        "戊": "已发证",
        "己": "已结业，未发证",
        "庚": "已退出",
    }
    assert rows["己"]["completed"] == LATE.isoformat() and rows["甲"]["completed"] == "—"
    certified = old["乙"].serial
    assert rows["乙"]["box"] == certified
    assert rows["乙"]["links"] == [f"/staff/certificates/{certified}"]
    # Revoked: the reason, its page (revoke and reissue live there), and no box to print it.
    assert rows["丙"]["box"] is None and "结业记录录入有误" in rows["丙"]["certificate"]
    assert rows["丙"]["links"] == [f"/staff/certificates/{old['丙'].serial}"]
    # Reissued: the new serial to print, and the superseded one with its replacement.
    new = next(c for c in session.exec(select(issued.Certificate)) if c.supersedes_id)
    assert rows["丁"]["box"] == new.serial
    assert rows["丁"]["links"] == [
        f"/staff/certificates/{new.serial}",
        f"/staff/certificates/{old['丁'].serial}",
    ]
    assert "已被取代" in rows["丁"]["certificate"]
    assert now["丁"].serial == new.serial
    assert rows["甲"]["box"] is None and rows["己"]["box"] is None
    detail = client.get(rows["乙"]["links"][0])
    assert page(detail).select_one("form[action$='/revoke']") is not None
    assert page(detail).select_one("form[action$='/reissue']") is not None


def test_filters_narrow_the_list_by_state_and_completion_date(client, session, roster):
    course = roster["course"]
    base = f"/staff/courses/{course.code}"
    assert sorted(_rows(client.get(f"{base}?state=certified"))) == ["丁", "乙", "戊"]
    assert sorted(_rows(client.get(f"{base}?state=revoked"))) == ["丙"]
    assert sorted(_rows(client.get(f"{base}?state=enrolled"))) == ["甲"]
    day = (EARLY + timedelta(days=1)).isoformat()
    assert sorted(_rows(client.get(f"{base}?completed_to={day}"))) == ["丙", "乙"]
    later = client.get(f"{base}?completed_from={day}&state=certified")
    assert sorted(_rows(later)) == ["丁", "戊"]
    # The print form carries the filters, so "print every valid certificate shown" means these.
    hidden = {i["name"]: i["value"] for i in page(later).select("#print input[type=hidden]")}
    assert hidden["completed_from"] == day and hidden["state"] == "certified"
    none = client.get(f"{base}?completed_from={clock.today().isoformat()}")
    assert _rows(none) == {} and "没有符合筛选条件的学员。" in none.text


@pytest.mark.parametrize(
    "query, field, message, rows",
    [
        ("completed_from=2026-02-30", "completed_from", "请按 2026-05-01 的格式填写日期", 7),
        (
            "completed_from=yesterday&state=certified",
            "completed_from",
            "请按 2026-05-01 的格式填写日期",
            3,
        ),
        (f"completed_from={LATE}&completed_to={EARLY}", "completed_to", "结束日期早于开始日期", 3),
        ("state=lost", "state", "填写内容无效", 7),
    ],
)
def test_a_bad_filter_is_a_field_error_and_narrows_nothing(
    client, session, roster, query, field, message, rows
):
    shown = client.get(f"/staff/courses/{roster['course'].code}?{query}")
    assert shown.status_code == 422
    assert field_errors(shown) == {field: message}
    assert len(_rows(shown)) == rows  # only the filters that are valid narrow the list


def test_the_list_of_another_university_is_not_found(roster, staff_b):
    response = staff_b.get(f"/staff/courses/{roster['course'].code}?state=certified")
    assert response.status_code == 404 and "乙" not in response.text


def test_a_withdrawn_enrollment_keeps_its_row(client, session, roster):
    left = session.exec(select(Enrollment).where(Enrollment.status == "withdrawn")).one()
    row = _rows(client.get(f"/staff/courses/{roster['course'].code}?state=withdrawn"))
    assert (
        list(row) == ["庚"]
        and left.enrollment_no
        in client.get(f"/staff/courses/{roster['course'].code}?state=withdrawn").text
    )
