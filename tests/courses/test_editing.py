"""A university creates a course with what a trainee decides by, edits it (audited; checked
against its enrollments), is warned before the catalog would not show it, and closes or
reopens enrollment by hand."""

import json
import logging
from datetime import timedelta

from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.courses.models import Course
from tests.factories import make_course, make_enrollment
from tests.html import field_errors, flash, page, text

TODAY = clock.today()
SOON, LATER = TODAY + timedelta(days=10), TODAY + timedelta(days=40)


def _form(**fields) -> dict[str, str]:
    return {
        "code": "SDUT-2026-09",
        "title": "纺织企业数字化转型",
        "hours": "32",
        "capacity": "40",
        "starts_on": SOON.isoformat(),
        "ends_on": LATER.isoformat(),
        "contact_phone": "0533-2781234",
        **fields,
    }


def _create(staff, **fields):
    data = {"csrf_token": staff.csrf("/staff/courses/new"), **_form(**fields)}
    return staff.post("/staff/courses/new", data=data, follow_redirects=False)


def _edit(staff, course, **fields):
    path = f"/staff/courses/{course.code}/edit"
    current = {
        i["name"]: i.get("value", "")
        for i in page(staff.get(path)).select("form.form input[name]")
        if i.get("type") != "checkbox"
    }
    data = {**current, **{k: v for k, v in _form(**fields).items() if k != "code"}, **fields}
    data["csrf_token"] = staff.csrf(path)
    return staff.post(path, data=data, follow_redirects=False)


def _course(session, code: str) -> Course:
    session.expire_all()
    return session.exec(select(Course).where(Course.code == code)).one()


def test_a_course_shows_what_a_trainee_decides_by_as_text(staff_a, anonymous, session):
    created = _create(
        staff_a,
        title_en="Digital Transformation",
        description="<script>alert(1)</script>第一段\r\n\r\n第二段<b>粗体</b>",
        mode="mixed",
        city_code="3707",
        venue="潍坊学院 行政楼 301",
        schedule="周六 9:00-12:00\r\n周日 14:00-17:00",
        contact_name="继续教育学院",
        contact_email="jxjy@wfu.edu.cn",
        audience="纺织企业的一线技术人员",
        cluster="home_textiles",
    )
    assert created.status_code == 303
    course = _course(session, "SDUT-2026-09")
    assert (course.city_code, course.mode, course.cluster) == ("3707", "mixed", "home_textiles")
    assert course.description == "<script>alert(1)</script>第一段\n\n第二段<b>粗体</b>"
    shown = anonymous.get("/courses/SDUT-2026-09")
    paragraphs = page(shown).select(".description p")
    assert [p.get_text() for p in paragraphs] == [
        "<script>alert(1)</script>第一段",
        "第二段<b>粗体</b>",
    ]
    assert page(shown).select_one(".description script") is None
    facts = text(shown, "dl.facts")
    for shown_fact in ("线上线下结合", "潍坊", "行政楼 301", "周六 9:00-12:00", "继续教育学院"):
        assert shown_fact in facts
    assert "jxjy@wfu.edu.cn" in facts and "Digital Transformation" in facts
    assert "一线技术人员" in facts


def test_a_new_course_is_taught_in_its_university_s_city_unless_told(staff_a, session):
    assert _create(staff_a).status_code == 303
    assert _course(session, "SDUT-2026-09").city_code == staff_a.university.city_code


def test_bad_details_are_answered_beside_their_fields(staff_a, session):
    response = _create(
        staff_a,
        contact_phone="",
        venue="地" * 201,
        contact_name="名" * 51,
        description="字" * 5001,
        mode="by post",
        city_code="1101",
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["contact_phone"] == "请填写供学员咨询的电话或电子邮箱"
    assert {"venue", "contact_name", "description", "mode"} <= set(errors)
    assert errors["venue"] == "内容过长"
    assert "地" * 201 in response.text  # what was typed is kept
    wrong_city = _create(staff_a, city_code="1101")
    assert wrong_city.status_code == 422 and "city_code" in field_errors(wrong_city)
    too_long_phone = _create(staff_a, contact_phone="0" * 31)
    assert "contact_phone" in field_errors(too_long_phone)
    assert session.exec(select(Course)).first() is None


def test_a_past_window_is_warned_and_saved_only_when_confirmed(staff_a, session):
    past = {"starts_on": "2026-03-01", "ends_on": "2026-06-30"}
    warned = _create(staff_a, **past)
    assert warned.status_code == 422
    warning = text(warned, "#hidden-warning")
    assert "此课程不会出现在课程目录中" in warning and "2026-06-30" in warning
    assert session.exec(select(Course)).first() is None
    assert page(warned).select_one("#hidden-warning input[name=confirm_hidden]") is not None
    confirmed = _create(staff_a, **past, confirm_hidden="yes")
    assert confirmed.status_code == 303
    listed = staff_a.get("/staff")
    assert text(listed, "tr.course-finished td.state") == "已结课"


def test_a_draft_is_confirmed_then_kept_out_of_enrollment(staff_a, anonymous, session):
    assert "草稿" in text(_create(staff_a, is_draft="yes"), "#hidden-warning")
    assert _create(staff_a, is_draft="yes", confirm_hidden="yes").status_code == 303
    assert text(staff_a.get("/staff"), "tr.course-draft td.state") == "草稿"
    # The public does not see it yet; its staff preview the page, with no enrollment form.
    assert anonymous.get("/courses/SDUT-2026-09").status_code == 404
    preview = staff_a.get("/courses/SDUT-2026-09")
    assert preview.status_code == 200 and page(preview).select_one("form.form") is None


def test_editing_is_audited_with_before_and_after(staff_a, session):
    course = make_course(session, staff_a.university, venue="旧址", starts_on=SOON, ends_on=LATER)
    form = staff_a.get(f"/staff/courses/{course.code}/edit")
    assert page(form).select_one("input[name=venue]")["value"] == "旧址"
    assert page(form).select_one("input[name=code]") is None  # the code is not editable
    saved = _edit(staff_a, course, venue="新校区 实训楼", capacity="60", title=course.title)
    assert saved.status_code == 303
    assert flash(staff_a.get(saved.headers["location"])) == "课程已保存"
    edited = _course(session, course.code)
    assert (edited.venue, edited.capacity) == ("新校区 实训楼", 60)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "course.update")).one()
    detail = json.loads(event.detail)
    assert detail["venue"] == {"before": "旧址", "after": "新校区 实训楼"}
    assert detail["capacity"] == {"before": 50, "after": 60}
    assert "title" not in detail


def test_capacity_never_below_seats_taken_and_trainees_are_told(staff_a, session, caplog):
    phone = {"contact_phone": "0533-2781234"}
    course = make_course(session, staff_a.university, starts_on=SOON, ends_on=LATER, **phone)
    for name in ("甲", "乙", "丙"):
        make_enrollment(session, course, name=name, mobile="13912345678")
    lowered = _edit(staff_a, course, capacity="2")
    assert lowered.status_code == 422
    assert field_errors(lowered)["capacity"] == "已有 3 名学员报名：名额不能少于此数"
    assert _course(session, course.code).capacity == 50
    past = _edit(staff_a, course, starts_on=(TODAY - timedelta(days=1)).isoformat())
    assert field_errors(past)["starts_on"] == "已有学员报名：此日期不能改到今天之前"
    moved = (SOON + timedelta(days=7)).isoformat()
    with caplog.at_level(logging.INFO, logger="app.courses.service"):
        assert _edit(staff_a, course, capacity="3", starts_on=moved).status_code == 303
    told = [r.getMessage() for r in caplog.records if r.name == "app.courses.service"]
    assert len(told) == 1 and course.code in told[0] and "starts_on" in told[0]
    assert "3 enrolled" in told[0] and "13912345678" not in told[0]


def test_another_university_cannot_edit_close_or_reopen(staff_a, staff_b, session):
    course = make_course(session, staff_a.university)
    path = f"/staff/courses/{course.code}"
    assert staff_b.get(f"{path}/edit").status_code == 404
    token = staff_b.csrf("/staff")
    for action in ("edit", "close", "reopen"):
        data = {"csrf_token": token, **_form()}
        assert staff_b.post(f"{path}/{action}", data=data).status_code == 404
    assert _course(session, course.code).is_open


def test_close_and_reopen_by_hand(staff_a, anonymous, session):
    course = make_course(session, staff_a.university)
    listed = staff_a.get("/staff")
    assert text(listed, "td.state") == "报名中"
    button = page(listed).select_one(f"form[action^='/staff/courses/{course.code}/close']")
    assert button is not None
    closed = staff_a.post(
        button["action"], data={"csrf_token": staff_a.csrf("/staff")}, follow_redirects=True
    )
    assert closed.status_code == 200 and flash(closed) == "报名已截止"
    assert text(closed, "td.state") == "开课中"  # started, no longer enrolling
    assert page(anonymous.get(f"/courses/{course.code}")).select_one("form.form") is None
    no_token = staff_a.post(f"/staff/courses/{course.code}/reopen", data={})
    assert no_token.status_code == 403
    reopened = staff_a.post(
        f"/staff/courses/{course.code}/reopen",
        data={"csrf_token": staff_a.csrf(f"/staff/courses/{course.code}")},
        follow_redirects=True,
    )
    assert (
        flash(reopened) == "已重新开放报名" and text(reopened, "#course-state .state") == "报名中"
    )
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "course"))
    assert sorted(actions) == ["course.close", "course.reopen"]


def test_each_state_on_the_staff_list(staff_a, session):
    u = staff_a.university
    ago, ahead = TODAY - timedelta(days=5), TODAY + timedelta(days=5)
    make_course(session, u, code="S-DRAFT", is_draft=True)
    make_course(session, u, code="S-OPEN")
    make_course(session, u, code="S-FULL", capacity=1, seats_taken=1)
    make_course(session, u, code="S-CLOSED", starts_on=ahead, ends_on=LATER, is_open=False)
    make_course(session, u, code="S-PASSED", starts_on=ahead, ends_on=LATER, enroll_closes_on=ago)
    make_course(session, u, code="S-RUNNING", starts_on=ago, enroll_closes_on=ago)
    make_course(session, u, code="S-FINISHED", starts_on=ago - timedelta(days=9), ends_on=ago)
    rows = {
        tr.select("td")[0].get_text(strip=True): tr.select_one("td.state").get_text(strip=True)
        for tr in page(staff_a.get("/staff")).select("tbody tr")
    }
    assert rows == {
        "S-DRAFT": "草稿",
        "S-OPEN": "报名中",
        "S-FULL": "已满员",
        "S-CLOSED": "报名已截止",
        "S-PASSED": "报名已截止",
        "S-RUNNING": "开课中",
        "S-FINISHED": "已结课",
    }


def _as_a_browser_sends(response) -> dict[str, str]:
    """The edit form's fields as a browser submits them untouched."""
    form = page(response).select_one("form.form")
    assert form is not None
    data = {
        i["name"]: i.get("value", "")
        for i in form.select("input[name]")
        if i.get("type") != "checkbox" or i.has_attr("checked")
    }
    data |= {t["name"]: t.get_text() for t in form.select("textarea[name]")}
    for select_ in form.select("select[name]"):
        chosen = select_.select_one("option[selected]") or select_.select_one("option")
        data[select_["name"]] = chosen.get("value", "") if chosen else ""
    return data


def test_saving_the_edit_form_untouched_changes_nothing(staff_a, session):
    course = make_course(
        session,
        staff_a.university,
        description="第一段\n\n第二段",
        schedule="周六 9:00",
        mode="online",
        city_code="3707",
        cluster="knitwear",
        contact_email="office@sdut.edu.cn",
        enroll_closes_on=SOON,
        title_en="Digital Design",
    )
    path = f"/staff/courses/{course.code}/edit"
    data = _as_a_browser_sends(staff_a.get(path))
    assert (data["mode"], data["city_code"], data["cluster"]) == ("online", "3707", "knitwear")
    assert data["description"] == "第一段\n\n第二段" and data["hours"] == "32"
    saved = staff_a.post(path, data=data, follow_redirects=False)
    assert saved.status_code == 303
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "course.update")).first() is None
    )
