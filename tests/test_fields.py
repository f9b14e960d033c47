"""Hostile values in typed fields get field errors, never a 500 or a silent oddity."""

import pytest

from app.auth import service as auth
from tests.factories import csrf_of, make_university
from tests.html import field_errors

COURSE = {
    "code": "QLU-2026-01",
    "title": "数字化印染工艺",
    "hours": 8,
    "capacity": 10,
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
}


@pytest.fixture
def api(client, session):
    university = make_university(session, code="QLU")
    _, token = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _field_errors(response) -> set[str]:
    assert response.status_code == 422, response.text
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("mark", ["\u200f", "\u200e", "\u061c", "\u202e", "\u2067", "\x1b"])
def test_invisible_format_characters_are_refused(api, mark):
    response = api.post("/api/v1/courses", json={**COURSE, "title": f"课程{mark}名称"})
    assert _field_errors(response) == {"title"}


@pytest.mark.parametrize("mark", ["\u200b", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters_pasted_along_are_dropped(api, client, session, mark):
    created = api.post("/api/v1/courses", json={**COURSE, "title": f"{mark}课程{mark}名称"})
    assert created.status_code == 201 and created.json()["title"] == "课程名称"


def test_a_form_with_a_pasted_zero_width_space_is_accepted(client, session):
    from tests.factories import make_company, make_course, new_id_number

    course = make_course(session, make_university(session))
    company = make_company(session)
    response = client.post(
        f"/courses/{course.code}/enroll",
        data={
            "csrf_token": csrf_of(client),
            "name": "李\u200b䶮",
            "id_number": new_id_number(),
            "mobile": "\ufeff13800138000",
            "company_uscc": f"\u200b{company.uscc}",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_on", "0001-01-01"),
        ("ends_on", "9999-12-31"),
        ("enroll_closes_on", "0001-01-01"),
    ],
)
def test_dates_outside_this_century_are_refused(api, field, value):
    assert field in _field_errors(api.post("/api/v1/courses", json={**COURSE, field: value}))


def test_capacity_is_a_number_not_a_truth_value(api):
    assert _field_errors(api.post("/api/v1/courses", json={**COURSE, "capacity": True})) == {
        "capacity"
    }


def test_hours_in_exponent_notation_are_stored_plainly(api):
    created = api.post("/api/v1/courses", json={**COURSE, "hours": "1E+2"})
    assert created.status_code == 201 and created.json()["hours"] in ("100.0", 100.0)


@pytest.mark.parametrize("university_id", ["9223372036854775808", "2147483648", "0", "-1"])
def test_staff_for_an_impossible_university_id_is_a_field_error(admin, session, university_id):
    make_university(session)
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf("/admin"),
            "email": "t@sdut.edu.cn",
            "password": "a-long-password",
            "university_id": university_id,
        },
    )
    assert response.status_code == 422 and "university_id" in field_errors(response)


def test_a_librarys_own_english_message_is_not_shown(api):
    # A multipart part without a plain filename arrives as text, not as a file.
    response = api.post(
        "/api/v1/completions", files={"other": ("a.csv", b"x")}, data={"file": "not a file"}
    )
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]]
    assert messages and not any("Expected" in m or "class" in m for m in messages), messages
