"""The API's side of a course's details: create with them, edit (PUT) within the university's
own courses, the same checks as the form, and confirm_hidden to save a hidden course."""

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.auth import service as auth
from tests.factories import make_course, make_enrollment

TODAY = clock.today()


@pytest.fixture
def headers(session, university_a, university_b):
    def token_of(university):
        _, token = auth.create_token(
            session, name="教务系统", role="university", university_id=university.id
        )
        return {"Authorization": f"Bearer {token}"}

    mine, theirs = token_of(university_a), token_of(university_b)
    session.commit()
    return {"a": mine, "b": theirs}


def _body(**fields):
    return {
        "code": "SDUT-API-01",
        "title": "工业互联网与数据分析",
        "hours": 16,
        "capacity": 30,
        "starts_on": (TODAY + timedelta(days=7)).isoformat(),
        "ends_on": (TODAY + timedelta(days=37)).isoformat(),
        **fields,
    }


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_create_with_details_and_read_them_back(client, headers):
    created = client.post(
        "/api/v1/courses",
        headers=headers["a"],
        json=_body(
            description="<img src=x onerror=alert(1)>\n\n第二段",
            mode="online",
            venue="腾讯会议",
            city_code="3707",
            contact_email="office@sdut.edu.cn",
            cluster="knitwear",
        ),
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["mode"], body["city_code"], body["city"], body["cluster"]) == (
        "online",
        "3707",
        "潍坊",
        "knitwear",
    )
    assert body["description"].startswith("<img")
    shown = client.get("/courses/SDUT-API-01").text
    assert "<img src=x" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"venue": "地" * 201}, "venue"),
        ({"contact_phone": "1" * 31}, "contact_phone"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_email": "office@"}, "contact_email"),
        ({"mode": "by post"}, "mode"),
        ({"cluster": "steel"}, "cluster"),
        ({"city_code": "1101"}, "city_code"),
        ({"description": "字" * 5001}, "description"),
        ({"is_draft": True}, "confirm_hidden"),
        (
            {"ends_on": (TODAY - timedelta(days=1)).isoformat(), "starts_on": "2026-01-01"},
            "confirm_hidden",
        ),
    ],
)
def test_bad_details_are_field_errors(client, headers, fields, field):
    refused = client.post("/api/v1/courses", headers=headers["a"], json=_body(**fields))
    assert refused.status_code == 422 and field in _errors(refused)


def test_a_hidden_course_is_saved_when_the_body_confirms_it(client, headers):
    past = {"starts_on": "2026-01-05", "ends_on": "2026-02-05", "confirm_hidden": True}
    refused = client.post(
        "/api/v1/courses", headers=headers["a"], json=_body(**past) | {"confirm_hidden": False}
    )
    assert "不会出现在课程目录中" in _errors(refused)["confirm_hidden"]
    assert (
        client.post("/api/v1/courses", headers=headers["a"], json=_body(**past)).status_code == 201
    )


def test_edit_within_the_university_s_own_courses(client, session, headers, university_a):
    course = make_course(session, university_a, code="SDUT-API-02", venue="旧址")
    path = f"/api/v1/courses/{course.code}"
    body = _body(code=course.code, venue="新址", capacity=45, starts_on=str(course.starts_on))
    assert client.put(path, headers=headers["b"], json=body).status_code == 404
    assert client.put(path, json=body).status_code == 401
    assert client.put("/api/v1/courses/NOPE-1", headers=headers["a"], json=body).status_code == 404
    saved = client.put(path, headers=headers["a"], json=body)
    assert saved.status_code == 200
    assert (saved.json()["venue"], saved.json()["capacity"]) == ("新址", 45)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "course.update")).one()
    assert json.loads(event.detail)["venue"] == {"before": "旧址", "after": "新址"}
    renamed = client.put(path, headers=headers["a"], json={**body, "code": "SDUT-API-99"})
    assert renamed.status_code == 422 and "code" in _errors(renamed)


def test_capacity_below_seats_taken_is_refused(client, session, headers, university_a):
    course = make_course(session, university_a, code="SDUT-API-03")
    make_enrollment(session, course)
    make_enrollment(session, course, name="李四")
    body = _body(code=course.code, capacity=1, starts_on=str(course.starts_on))
    refused = client.put(f"/api/v1/courses/{course.code}", headers=headers["a"], json=body)
    assert refused.status_code == 422
    assert _errors(refused) == {"capacity": "已有 2 名学员报名：名额不能少于此数"}
    session.refresh(course)
    assert course.capacity == 50
