"""The JSON API: the twins of the pages, their tokens and their error shapes."""

from datetime import timedelta

import pytest

from app import clock
from app.auth import service as auth
from tests.factories import make_company, make_university, new_id_number


@pytest.fixture
def tokens(session):
    university = make_university(session, code="QLU")
    _, admin = auth.create_token(session, name="admin", role="admin")
    _, qlu = auth.create_token(session, name="qlu", role="university", university_id=university.id)
    session.commit()
    return {
        "admin": {"Authorization": f"Bearer {admin}"},
        "qlu": {"Authorization": f"Bearer {qlu}"},
    }


def _course(**overrides):
    today = clock.today()
    return {
        "code": "QLU-API-01",
        "title": "纺织品跨境电商运营",
        "hours": 24,
        "capacity": 2,
        "starts_on": str(today),
        "ends_on": str(today + timedelta(days=30)),
        **overrides,
    }


def _enrollment(**overrides):
    return {
        "course_code": "QLU-API-01",
        "name": "阿依古丽·买买提",
        "id_number": new_id_number(),
        "mobile": "+86 13912345678",
        "company_uscc": "",
        "company_name": "",
        "consent": True,
        **overrides,
    }


def test_admin_creates_university(client, tokens):
    response = client.post(
        "/api/v1/universities",
        headers=tokens["admin"],
        json={"code": "QDU", "name": "青岛大学", "city_code": "3702"},
    )
    assert response.status_code == 201 and response.json()["code"] == "QDU"
    again = client.post(
        "/api/v1/universities",
        headers=tokens["admin"],
        json={"code": "QDU", "name": "青岛大学", "city_code": "3702"},
    )
    assert again.status_code == 409 and "detail" in again.json()
    bad_city = client.post(
        "/api/v1/universities",
        headers=tokens["admin"],
        json={"code": "X1", "name": "某大学", "city_code": "1101"},
    )
    assert bad_city.status_code == 422 and bad_city.json()["errors"][0]["field"] == "city_code"


def test_university_token_cannot_create_universities(client, tokens):
    response = client.post(
        "/api/v1/universities",
        headers=tokens["qlu"],
        json={"code": "QDU", "name": "青岛大学", "city_code": "3702"},
    )
    assert response.status_code == 403
    assert client.post("/api/v1/universities", json={}).status_code == 401
    wrong = client.post("/api/v1/universities", headers={"Authorization": "Bearer wrong"}, json={})
    assert wrong.status_code == 401 and wrong.json()["detail"]


def test_course_enroll_and_goals(client, session, tokens):
    assert client.post("/api/v1/courses", headers=tokens["qlu"], json=_course()).status_code == 201
    listed = client.get("/api/v1/courses").json()
    assert listed[0]["code"] == "QLU-API-01" and listed[0]["seats_left"] == 2
    company = make_company(session)
    first = client.post("/api/v1/enrollments", json=_enrollment(company_uscc=company.uscc))
    assert first.status_code == 201 and first.json()["enrollment_no"].startswith("BM")
    assert first.json()["status"] == "enrolled"
    assert client.get("/api/v1/goals").json()["enrolled"] == {"count": 1}


def test_enrollment_field_errors_and_conflicts(client, session, tokens):
    client.post("/api/v1/courses", headers=tokens["qlu"], json=_course(capacity=1))
    company = make_company(session)
    invalid = client.post(
        "/api/v1/enrollments",
        json=_enrollment(
            id_number="110105194912310021", mobile="123", consent=False, company_uscc=company.uscc
        ),
    )
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert invalid.status_code == 422 and {"id_number", "mobile", "consent"} <= fields
    id_number = new_id_number()
    ok = client.post(
        "/api/v1/enrollments", json=_enrollment(id_number=id_number, company_uscc=company.uscc)
    )
    assert ok.status_code == 201
    twice = client.post(
        "/api/v1/enrollments", json=_enrollment(id_number=id_number, company_uscc=company.uscc)
    )
    assert twice.status_code == 409
    full = client.post("/api/v1/enrollments", json=_enrollment(company_uscc=company.uscc))
    assert full.status_code == 409 and full.json()["detail"]
    unknown = client.post(
        "/api/v1/enrollments", json=_enrollment(course_code="NOPE", company_uscc=company.uscc)
    )
    assert unknown.status_code == 404


def test_course_validation_errors(client, tokens):
    response = client.post(
        "/api/v1/courses",
        headers=tokens["qlu"],
        json=_course(code="bad code", hours=-1, ends_on="2020-01-01"),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"code", "hours"}
    assert (
        client.post("/api/v1/courses", headers=tokens["admin"], json=_course()).status_code == 403
    )


def test_errors_follow_the_language(client, tokens):
    response = client.post(
        "/api/v1/courses",
        headers={**tokens["qlu"], "Accept-Language": "en"},
        json=_course(title=""),
    )
    assert response.json()["errors"][0]["message"] == "Use at least 2 characters"


def test_openapi_docs_list_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/universities",
        "/api/v1/courses",
        "/api/v1/enrollments",
        "/api/v1/completions",
        "/api/v1/courses/{code}/certificates",
        "/api/v1/certificates/{serial}",
        "/api/v1/certificates/{serial}/pdf",
        "/api/v1/goals",
    ):
        assert path in paths
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
