"""Form tokens are bound to the login session (or, before login, to a per-browser cookie they are
a keyed hash of), and posts from another site are refused by their Origin (issue 5)."""

import pytest

from tests.factories import PASSWORD, csrf_of, login, make_course, make_university, make_user

EXPIRED = "The form has expired"
CROSS_SITE = "Requests from other sites are refused"
EN = {"Accept-Language": "en"}


def _login_form(email: str, token: str) -> dict:
    return {"email": email, "password": PASSWORD, "csrf_token": token}


def test_a_cookie_and_field_that_merely_match_are_refused(client, session):
    # Whoever can plant a cookie (a sibling subdomain, plain HTTP) could forge a matching pair.
    user = make_user(session, university=make_university(session))
    client.cookies.set("dandelion_csrf", "planted-by-an-attacker")
    response = client.post(
        "/login", data=_login_form(user.email, "planted-by-an-attacker"), headers=EN
    )
    assert response.status_code == 403 and EXPIRED in response.text
    assert client.cookies.get("dandelion_session") is None


def test_a_token_that_is_not_ascii_is_refused_not_a_server_error(client, session):
    user = make_user(session, university=make_university(session))
    csrf_of(client)
    assert client.post("/login", data=_login_form(user.email, "令牌")).status_code == 403


def test_the_form_token_is_not_the_cookie(client):
    token = csrf_of(client)
    assert client.cookies.get("dandelion_csrf") and token != client.cookies.get("dandelion_csrf")


def test_a_token_from_another_browser_is_refused(client, new_client, session):
    user = make_user(session, university=make_university(session))
    csrf_of(client)
    response = client.post("/login", data=_login_form(user.email, csrf_of(new_client())))
    assert response.status_code == 403


def test_a_token_from_before_login_is_refused_after_it(client, session):
    user = make_user(session, university=make_university(session))
    before = csrf_of(client, "/certificates/find")
    login(client, user)
    response = client.post(
        "/logout", data={"csrf_token": before}, headers=EN, follow_redirects=False
    )
    assert response.status_code == 403 and EXPIRED in response.text
    assert client.get("/staff").status_code == 200  # still logged in
    after = client.post(
        "/logout", data={"csrf_token": csrf_of(client, "/staff")}, follow_redirects=False
    )
    assert after.status_code == 303


def test_a_token_from_another_session_is_refused(client, new_client, session):
    user = make_user(session, university=make_university(session))
    login(client, user)
    other = new_client()
    login(other, user)  # the same account, another login
    # Even with the other browser's CSRF cookie, only the session binding tells them apart.
    client.cookies.set("dandelion_csrf", other.cookies.get("dandelion_csrf"))
    response = client.post(
        "/logout", data={"csrf_token": csrf_of(other, "/staff")}, follow_redirects=False
    )
    assert response.status_code == 403


def test_login_and_logout_give_the_browser_a_new_csrf_cookie(client, session):
    user = make_user(session, university=make_university(session))
    csrf_of(client)
    first = client.cookies.get("dandelion_csrf")
    login(client, user)
    second = client.cookies.get("dandelion_csrf")
    client.post("/logout", data={"csrf_token": csrf_of(client, "/staff")})
    third = client.cookies.get("dandelion_csrf")
    assert len({first, second, third}) == 3
    assert (
        client.post(
            "/login", data=_login_form(user.email, csrf_of(client)), follow_redirects=False
        ).status_code
        == 303
    )


def test_logging_in_again_ends_the_earlier_session(client, session):
    from sqlmodel import select

    from app.auth.models import UserSession

    user = make_user(session, university=make_university(session))
    login(client, user)
    login(client, user)
    assert len(session.exec(select(UserSession)).all()) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver:8080"},
        {"Origin": "https://testserver"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_posts_from_another_site_are_refused_with_a_clear_message(client, session, headers):
    user = make_user(session, university=make_university(session))
    response = client.post(
        "/login", data=_login_form(user.email, csrf_of(client)), headers={**headers, **EN}
    )
    assert response.status_code == 403 and CROSS_SITE in response.text
    assert client.cookies.get("dandelion_session") is None
    chinese = client.post("/login", data=_login_form(user.email, csrf_of(client)), headers=headers)
    assert chinese.status_code == 403 and "来自其他网站" in chinese.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_same_site_and_originless_posts_work(client, session, headers):
    user = make_user(session, university=make_university(session))
    response = client.post(
        "/login",
        data=_login_form(user.email, csrf_of(client)),
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_state_changing_method_is_checked(client, method):
    response = client.request(method, "/staff", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_cross_site_api_calls_are_refused_unless_they_carry_a_token(client, session):
    from app.auth import service as auth

    university = make_university(session)
    course = make_course(session, university)
    _, token = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    evil = {"Origin": "https://evil.example", **EN}
    public = client.post("/api/v1/enrollments", json={"course_code": course.code}, headers=evil)
    assert public.status_code == 403 and CROSS_SITE in public.json()["detail"]
    # A bearer token is never sent by a browser on its own: no cross-site forgery to fear.
    bearer = {**evil, "Authorization": f"Bearer {token}"}
    with_token = client.post(
        "/api/v1/courses",
        headers=bearer,
        json={
            "code": "X-1",
            "title": "课程",
            "hours": 8,
            "capacity": 10,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
        },
    )
    assert with_token.status_code == 201
    assert client.get("/api/v1/goals", headers=evil).status_code == 200  # reads are not refused
