"""The plan's targets and campaign period, set by an administrator in the browser (and by an
administrator's token), audited; bad input answered beside its field or as JSON 422."""

import json

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from tests.factories import make_university
from tests.html import field_errors, flash, form_values

PAGE = "/admin/goals"
GOOD = {
    "universities": "60",
    "companies": "600",
    "talents": "6000",
    "starts_on": "2026-03-01",
    "ends_on": "2028-02-29",
}


def _save(persona, headers=None, **changes):
    data = {**GOOD, **changes, "csrf_token": persona.csrf(PAGE)}
    return persona.post(PAGE, data=data, headers=headers or {}, follow_redirects=False)


@pytest.fixture
def tokens(session):
    university = make_university(session)
    _, admin = auth.create_token(session, name="admin", role="admin")
    _, staff = auth.create_token(session, name="u", role="university", university_id=university.id)
    session.commit()
    return {"admin": f"Bearer {admin}", "university": f"Bearer {staff}"}


def test_the_form_starts_from_the_defaults(admin):
    values = form_values(admin.get(PAGE), "form.plan")
    assert {k: values[k] for k in GOOD} == {
        "universities": "50",
        "companies": "500",
        "talents": "5000",
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
    }


def test_an_administrator_saves_the_plan_and_it_is_audited(admin, client, new_session):
    response = _save(admin)
    assert response.status_code == 303 and response.headers["location"] == PAGE
    page = admin.get(PAGE)
    assert flash(page) == "目标与任务周期已保存"
    assert form_values(page, "form.plan")["talents"] == "6000"
    body = client.get("/api/v1/goals").json()
    assert body["talents"]["target"] == 6000 and body["universities"]["target"] == 60
    assert body["period"] == {"starts_on": "2026-03-01", "ends_on": "2028-02-29"}
    assert "0 / 6000" in client.get("/").text
    with new_session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "goals.plan")).one()
    assert event.actor == admin.user.actor
    detail = json.loads(event.detail)
    assert detail["before"]["talents"] == 5000 and detail["after"]["talents"] == 6000
    assert detail["after"]["starts_on"] == "2026-03-01"


def test_targets_typed_on_a_chinese_keyboard_are_read(admin, client):
    assert _save(admin, talents="５，０００", companies="1,500").status_code == 303
    body = client.get("/api/v1/goals").json()
    assert (body["talents"]["target"], body["companies"]["target"]) == (5000, 1500)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"universities": "0"}, "universities", "必须大于 0"),
        ({"companies": "-5"}, "companies", "必须大于 0"),
        ({"talents": "2000000"}, "talents", "不能大于 1000000"),
        ({"talents": "5千"}, "talents", "请输入整数"),
        ({"universities": "12.5"}, "universities", "请输入整数"),
        ({"universities": ""}, "universities", "此项为必填"),
        ({"starts_on": "2026-13-01"}, "starts_on", "格式填写日期"),
        ({"ends_on": "next year"}, "ends_on", "格式填写日期"),
        ({"starts_on": "1999-12-31"}, "starts_on", "2000 年至 2100 年"),
        ({"starts_on": "2027-01-01", "ends_on": "2026-12-31"}, "ends_on", "结束日期须晚于开始日期"),
        ({"starts_on": "2027-01-01", "ends_on": "2027-01-01"}, "ends_on", "结束日期须晚于开始日期"),
        ({"starts_on": "2026-01-01", "ends_on": "2037-01-02"}, "ends_on", "最长 10 年"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
    admin, client, changes, field, message
):
    response = _save(admin, **changes)
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == [field] and message in errors[field]
    typed = form_values(response, "form.plan")
    assert all(typed[k] == v for k, v in changes.items())  # what was typed is kept
    assert client.get("/api/v1/goals").json()["talents"]["target"] == 5000


def test_bad_input_in_english(admin):
    admin.get("/lang/en")
    response = _save(admin, universities="0", starts_on="2027-01-01", ends_on="2026-01-01")
    assert field_errors(response) == {"universities": "Must be greater than 0"}
    response = _save(admin, starts_on="2027-01-01", ends_on="2026-01-01")
    assert field_errors(response) == {"ends_on": "The period must end after it starts"}


def test_only_administrators_see_or_change_the_plan(staff_a, anonymous, client):
    assert staff_a.get(PAGE).status_code == 403
    refused = staff_a.post(PAGE, data={**GOOD, "csrf_token": staff_a.csrf("/staff")})
    assert refused.status_code == 403
    assert anonymous.get(PAGE, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/goals").json()["universities"]["target"] == 50


def test_a_form_without_its_token_is_refused(admin, client):
    response = admin.post(PAGE, data=GOOD)
    assert response.status_code == 403
    assert client.get("/api/v1/goals").json()["universities"]["target"] == 50


def test_the_api_twin_sets_the_plan_with_an_administrators_token(client, tokens):
    plan = {**GOOD, "talents": 7000}
    response = client.put(
        "/api/v1/goals/plan", json=plan, headers={"Authorization": tokens["admin"]}
    )
    assert response.status_code == 200
    assert response.json()["talents"] == 7000 and response.json()["updated_by"].startswith("token:")
    assert client.get("/api/v1/goals/plan").json()["ends_on"] == "2028-02-29"
    assert client.get("/api/v1/goals").json()["talents"]["target"] == 7000


def test_the_api_twin_answers_bad_input_with_field_errors(client, tokens):
    admin = {"Authorization": tokens["admin"]}
    zero = client.put("/api/v1/goals/plan", json={**GOOD, "talents": 0}, headers=admin)
    assert zero.status_code == 422
    assert zero.json()["errors"][0]["field"] == "talents"
    backwards = client.put(
        "/api/v1/goals/plan",
        json={**GOOD, "starts_on": "2027-01-01", "ends_on": "2026-01-01"},
        headers={**admin, "Accept-Language": "en"},
    )
    assert backwards.status_code == 422
    assert backwards.json() == {
        "errors": [{"field": "ends_on", "message": "The period must end after it starts"}]
    }
    not_a_date = client.put("/api/v1/goals/plan", json={**GOOD, "starts_on": "soon"}, headers=admin)
    assert not_a_date.status_code == 422
    assert [e["field"] for e in not_a_date.json()["errors"]] == ["starts_on"]
    university = client.put(
        "/api/v1/goals/plan", json=GOOD, headers={"Authorization": tokens["university"]}
    )
    assert university.status_code == 403
    assert client.put("/api/v1/goals/plan", json=GOOD).status_code == 401
    assert client.get("/api/v1/goals/plan").json()["talents"] == 5000
