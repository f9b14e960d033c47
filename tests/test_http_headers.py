"""Every response carries the security headers, however early or wrong the request; answers with
personal data are never stored; only the configured host is served (issue 5)."""

import pytest
from fastapi.testclient import TestClient

from app.auth import service as auth
from app.config import Settings
from tests.factories import csrf_of, make_university

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)
TOO_BIG = b"a" * (Settings().max_upload_bytes + (1 << 20))  # past the cap and its margin


def _missing(response) -> list[str]:
    return [h for h in SECURITY_HEADERS if h not in response.headers]


def _stored(response) -> bool:
    return "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/api/v1/no-such", 404),
        ("GET", "/courses/%00", 404),
        ("GET", "/api/v1/certificates/%00", 404),
        ("GET", "/logout", 405),
        ("DELETE", "/api/v1/enrollments", 405),
        ("POST", "/api/v1/enrollments", 422),
        ("GET", "/api/v1/certificates/not-a-serial", 422),
        ("GET", "/enrollments/BM26AAAAAAAA", 404),
        ("POST", "/login", 403),
        ("POST", "/api/v1/universities", 401),
        ("GET", "/static/style.css", 200),
        ("GET", "/static/no-such.css", 404),
        ("POST", "/static/style.css", 405),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/redoc", 200),
        ("GET", "/static-offline-docs/swagger-ui-bundle.js", 200),
        ("GET", "/lang/en", 303),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client, method, path, status):
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status and not _missing(response)


@pytest.mark.parametrize("path", ["/certificates/find", "/api/v1/enrollments"])
def test_a_body_refused_by_its_length_carries_them(client, path):
    response = client.post(
        path, content=TOO_BIG, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413 and not _missing(response)


def test_a_server_error_carries_them_and_is_translated(web_app):
    def boom():
        raise RuntimeError("a bug")

    web_app.add_api_route("/test-only/boom", boom)
    web_app.add_api_route("/api/v1/test-only/boom", boom)

    with TestClient(web_app, raise_server_exceptions=False) as client:
        page = client.get("/test-only/boom", headers={"Accept-Language": "en"})
        api = client.get("/api/v1/test-only/boom")
    assert page.status_code == 500 and not _missing(page) and "went wrong" in page.text
    assert api.status_code == 500 and not _missing(api) and api.json()["detail"]


def test_the_docs_get_a_policy_of_their_own(client):
    docs = client.get("/docs").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs and "'unsafe-inline'" in docs
    assert "script-src 'none'" in client.get("/").headers["content-security-policy"]


def test_answers_to_a_signed_in_user_are_not_stored(anonymous, staff_a):
    assert _stored(anonymous.get("/"))
    for path in ("/", "/staff", "/courses", "/no-such-page", "/staff/uploads"):
        assert not _stored(staff_a.get(path)), path


def test_public_pages_and_files_stay_cacheable(client):
    for path in ("/", "/courses", "/certificates/find", "/static/style.css", "/api/v1/goals"):
        assert _stored(client.get(path)), path


def test_certificate_look_ups_are_not_stored(client):
    response = client.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(client, "/certificates/find"),
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
        },
    )
    assert response.status_code == 422 and not _stored(response)


def test_api_answers_to_token_holders_are_not_stored(client, session):
    _, token = auth.create_token(session, name="t", role="admin")
    session.commit()
    assert not _stored(client.get("/api/v1/goals", headers={"Authorization": f"Bearer {token}"}))


def test_a_forged_host_is_refused_with_the_headers(client):
    for host in ("evil.example", "testserver.evil.example", "evil.example:80"):
        response = client.get("/courses", headers={"Host": host})
        assert response.status_code == 400 and not _missing(response), host
        assert "evil" not in response.text


def test_local_addresses_are_served_in_test_and_development(client):
    for host in ("localhost:8000", "127.0.0.1:8000", "testserver"):
        assert client.get("/courses", headers={"Host": host}).status_code == 200


@pytest.fixture
def production(app_with):
    """A production app at https://dandelion.example.cn, with extra settings if a test sets them."""

    def make(**changes) -> TestClient:
        application = app_with(
            environment="production", public_url="https://dandelion.example.cn", **changes
        )
        return TestClient(application, base_url="https://dandelion.example.cn")

    return make


def test_production_serves_only_the_public_host(production):
    with production() as client:
        assert client.get("/courses").status_code == 200
        for host in ("localhost", "127.0.0.1", "testserver", "evil.example"):
            assert client.get("/courses", headers={"Host": host}).status_code == 400


def test_production_serves_the_hosts_it_is_told_of_too(production):
    with production(allowed_hosts="10.0.0.5, health.internal") as client:
        for host, status in (("10.0.0.5", 200), ("health.internal", 200), ("evil.example", 400)):
            assert client.get("/courses", headers={"Host": host}).status_code == status


def test_links_and_redirects_do_not_depend_on_the_host(staff_a):
    page = staff_a.get("/courses", headers={"Host": "127.0.0.1:8000"})
    assert "127.0.0.1" not in page.text and 'href="/static/style.css"' in page.text
    created = staff_a.post(
        "/staff/courses/new",
        headers={"Host": "localhost:8000"},
        data={
            "csrf_token": staff_a.csrf("/staff/courses/new"),
            "code": "HOST-01",
            "title": "课程",
            "contact_phone": "0531-89631234",
            "hours": "8",
            "capacity": "10",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/staff/courses/HOST-01"


def test_pages_about_one_person_are_not_stored(client, session):
    from tests.factories import make_course, make_enrollment

    enrollment, _ = make_enrollment(session, make_course(session, make_university(session)))
    for path in (
        f"/enrollments/{enrollment.enrollment_no}",
        "/verify/DL26-3PB0-AMYY-M",
        "/api/v1/certificates/DL26-3PB0-AMYY-M",
    ):
        assert not _stored(client.get(path)), path


def test_development_serves_a_phone_on_the_same_network(app_with):
    application = app_with(environment="development")
    with TestClient(application, base_url="http://192.168.1.20:8000") as phone:
        assert phone.get("/courses").status_code == 200
