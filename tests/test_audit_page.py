"""The audit page (issue 9; the auditor's alone since issue 11): who did what and when,
filtered by user, university, action and date, paginated newest first, and never an ID number
or a mobile number on it."""

from datetime import datetime, timedelta

from app import clock
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.db import utcnow
from tests.factories import make_user, new_id_number
from tests.html import field_errors, page, text, texts


def _event(session, actor, action, object_type="course", object_id=1, at=None, **detail):
    audit.record(session, actor, action, object_type, object_id, **detail)
    if at is not None:
        [event] = [o for o in session.new if isinstance(o, AuditEvent)]
        event.at = at
    session.commit()


def days_ago(n: int) -> datetime:
    """Ten in the morning, China time, n days ago."""
    day = clock.today() - timedelta(days=n)
    return datetime.combine(day, datetime.min.time(), clock.CHINA) + timedelta(hours=10)


def _rows(response) -> list[list[str]]:
    return [
        [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page(response).select("table.audit tbody tr")
    ]


def _actions(response) -> list[str]:
    return [row[2] for row in _rows(response)]


def test_events_are_listed_newest_first_with_who_by_email(auditor, staff_a, session):
    _event(session, staff_a.user.actor, "course.create", at=utcnow() - timedelta(hours=2))
    _event(session, "public", "enrollment.create", "enrollment", 5, course="C1")
    response = auditor.get("/audit")
    assert response.status_code == 200
    rows = _rows(response)
    staff, chief = staff_a.user.email, auditor.user.email
    assert [r[1:4] for r in rows] == [
        ["公众", "enrollment.create", "enrollment 5"],
        [staff, "user.login", f"user {staff}"],
        ["test", "user.create", f"user {staff}"],
        [chief, "user.login", f"user {chief}"],
        ["test", "user.create", f"user {chief}"],
        [staff, "course.create", "course 1"],  # two hours ago
    ]
    assert rows[0][4] == "course: C1"


def test_no_id_number_or_mobile_is_ever_shown(auditor, staff_a, session):
    number = new_id_number()
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    _event(
        session,
        staff_a.user.actor,
        "certificate.revoke",
        "certificate",
        7,
        serial="SD-2026-000001-K",
        reason=f"错发给 {spaced}，手机 138-0013-8000；全角 {'１３９００１３９０００'}",
        mobile="13900139000",
        id_number=number,
    )
    response = auditor.get("/audit?action=certificate")
    shown = response.text
    assert number not in shown and number[6:14] not in shown
    assert "13800138000" not in shown and "0013-8000" not in shown and "13900139000" not in shown
    assert "１３９００１３９０００" not in shown
    detail = _rows(response)[0][4]
    assert "reason: 错发给 " in detail and "SD-2026-000001-K" in detail
    assert "138****8000" in detail and "mobile" not in detail and "id_number" not in detail


def test_filters_by_user_university_action_and_dates(
    auditor, admin, staff_a, staff_b, session, university_a
):
    token, _ = auth.create_token(
        session,
        name="nightly",
        role="university",
        university_id=university_a.id,
        created_by=staff_a.user,
        actor=staff_a.user.actor,
    )
    session.commit()
    _event(session, staff_a.user.actor, "course.create", at=days_ago(10))
    _event(session, f"token:{token.id}", "completion.upload", "completion_batch", 3, rows=4)
    _event(session, staff_b.user.actor, "course.create", at=days_ago(3))
    _event(session, admin.user.actor, "university.create", "university", university_a.id)

    by_user = auditor.get(f"/audit?user_id={staff_a.user.id}")
    assert set(_actions(by_user)) == {
        "user.login",
        "token.create",
        "course.create",
        "completion.upload",
    }
    assert "API 令牌“nightly”" in texts(by_user, "table.audit td")
    assert (
        page(by_user)
        .select_one(f"#f-user_id option[value='{staff_a.user.id}']")
        .has_attr("selected")
    )

    by_university = auditor.get(f"/audit?university_id={university_a.id}")
    actions = _actions(by_university)
    assert "university.create" in actions and "completion.upload" in actions
    assert "user.create" in actions  # the account made for that university
    assert all(staff_b.user.email not in row[1] for row in _rows(by_university))

    kind = auditor.get("/audit?action=course")
    assert _actions(kind) == ["course.create", "course.create"]
    exact = auditor.get("/audit?action=user.login")
    assert set(_actions(exact)) == {"user.login"}

    since = (clock.today() - timedelta(days=5)).isoformat()
    until = (clock.today() - timedelta(days=1)).isoformat()
    ranged = auditor.get(f"/audit?date_from={since}&date_to={until}")
    assert [r[1:3] for r in _rows(ranged)] == [[staff_b.user.email, "course.create"]]
    combined = auditor.get(f"/audit?user_id={staff_a.user.id}&action=course&date_to={until}")
    assert [r[1:3] for r in _rows(combined)] == [[staff_a.user.email, "course.create"]]
    empty = auditor.get(f"/audit?user_id={staff_b.user.id}&action=token")
    assert _rows(empty) == [] and text(empty, "section.card p.muted") == "没有符合条件的记录。"


def test_pages_of_fifty_keep_the_filters(auditor, session, university_a):
    staff = make_user(session, university=university_a)
    start = utcnow() - timedelta(days=1)
    for i in range(audit.PAGE_SIZE + 5):
        _event(session, staff.actor, "course.create", object_id=i, at=start + timedelta(minutes=i))
    first = auditor.get(f"/audit?user_id={staff.id}")
    assert len(_rows(first)) == audit.PAGE_SIZE
    assert [r[3] for r in _rows(first)][:2] == ["course 54", "course 53"]
    older = page(first).select_one("a[rel=next]")["href"]
    assert f"user_id={staff.id}" in older and "page=2" in older
    assert page(first).select_one("a[rel=prev]") is None
    second = auditor.get("/audit" + older)
    assert [r[3] for r in _rows(second)] == [f"course {i}" for i in range(4, -1, -1)]
    assert page(second).select_one("a[rel=next]") is None
    assert "page=1" in page(second).select_one("a[rel=prev]")["href"]


def test_bad_filters_are_shown_beside_their_fields(auditor):
    backwards = auditor.get("/audit?date_from=2026-05-02&date_to=2026-05-01")
    assert backwards.status_code == 400
    assert field_errors(backwards) == {"date_to": "结束日期早于开始日期"}
    assert page(backwards).select_one("#f-date_from")["value"] == "2026-05-02"
    not_a_date = auditor.get("/audit?date_from=yesterday")
    assert not_a_date.status_code == 400 and list(field_errors(not_a_date)) == ["date_from"]
    assert auditor.get("/audit?user_id=99999999999").status_code == 400
    assert auditor.get("/audit?page=0").status_code == 400
    assert auditor.get(f"/audit?action={'x' * 41}").status_code == 400
    assert auditor.get("/audit?university_id=424242").status_code == 200
