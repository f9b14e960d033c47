from sqlmodel import select

from app.auth.models import UserSession
from tests.factories import PASSWORD, csrf_of, login, make_university, make_user


def test_login_sets_httponly_session_and_logout_ends_it_on_the_server(client, session):
    user = make_user(session, university=make_university(session))
    login(client, user)
    cookie = client.cookies.get("dandelion_session")
    assert cookie and session.exec(select(UserSession)).first() is not None
    assert client.get("/staff").status_code == 200
    response = client.post(
        "/logout", data={"csrf_token": csrf_of(client, "/staff")}, follow_redirects=False
    )
    assert response.status_code == 303
    assert session.exec(select(UserSession)).first() is None
    # A stolen copy of the old cookie is worthless once the session is gone.
    client.cookies.set("dandelion_session", cookie)
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_session_cookie_flags(client, session):
    user = make_user(session, university=make_university(session))
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    header = [
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("dandelion_session=")
    ][0]
    assert "HttpOnly" in header and "SameSite=lax" in header


def test_wrong_password_shows_message_and_keeps_email(client, session):
    user = make_user(session, university=make_university(session))
    response = client.post(
        "/login",
        data={"email": user.email, "password": "wrong-password", "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 400
    assert f'value="{user.email}"' in response.text and 'class="error"' in response.text
    assert client.cookies.get("dandelion_session") is None


def test_login_without_csrf_is_forbidden(client, session):
    user = make_user(session, university=make_university(session))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_pages_need_login(client):
    response = client.get("/staff", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_staff_cannot_open_admin_and_admin_is_not_staff(client, new_client, session):
    staff = make_user(session, university=make_university(session))
    login(client, staff)
    assert client.get("/admin").status_code == 403
    admin_client = new_client()
    login(admin_client, make_user(session, role="admin"))
    assert admin_client.get("/admin").status_code == 200
    assert admin_client.get("/staff").status_code == 403


def test_next_parameter_cannot_redirect_off_site(client, session):
    user = make_user(session, university=make_university(session))
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "//evil.example",
            "csrf_token": csrf_of(client),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff"


def test_repeated_wrong_passwords_are_throttled_even_with_the_right_one(app_with, session):
    """The throttle stays behind the lock-out (tests/auth/test_lockout.py): with a lenient
    lock-out policy, ten wrong passwords still close the door."""
    from fastapi.testclient import TestClient

    user = make_user(session, university=make_university(session))
    client = TestClient(app_with(lockout_failures=100))
    for _ in range(10):
        response = client.post(
            "/login",
            data={"email": user.email, "password": "wrong-password", "csrf_token": csrf_of(client)},
        )
        assert response.status_code == 400
    blocked = client.post(
        "/login",
        data={"email": user.email.upper(), "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert blocked.status_code == 429 and 'class="error"' in blocked.text
    assert client.cookies.get("dandelion_session") is None


def test_parallel_guesses_are_counted_before_the_password_check(client, session):
    from concurrent.futures import ThreadPoolExecutor

    from app.auth.models import ThrottleEvent

    user = make_user(session, university=make_university(session))
    token = csrf_of(client)

    def guess(_):
        return client.post(
            "/login", data={"email": user.email, "password": "wrong-password", "csrf_token": token}
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(guess, range(24)))
    assert codes.count(400) <= 10 and codes.count(429) >= 14
    assert len(session.exec(select(ThrottleEvent)).all()) >= 24


def test_a_stranger_cannot_lock_the_real_user_out_from_elsewhere(web_app, session):
    from fastapi.testclient import TestClient

    user = make_user(session, university=make_university(session))
    with TestClient(web_app, client=("203.0.113.9", 5000)) as stranger:
        for _ in range(60):  # past the per-account limit too: that one counts addresses
            stranger.post(
                "/login",
                data={
                    "email": user.email,
                    "password": "wrong-password",
                    "csrf_token": csrf_of(stranger),
                },
            )
    with TestClient(web_app, client=("198.51.100.7", 5000)) as owner:
        login(owner, user)


def test_guessers_from_many_addresses_are_limited_per_account(web_app, session):
    from fastapi.testclient import TestClient

    user = make_user(session, university=make_university(session))
    for n in range(20):
        with TestClient(web_app, client=(f"203.0.113.{n}", 5000)) as guesser:
            assert (
                guesser.post(
                    "/login",
                    data={
                        "email": user.email,
                        "password": "wrong-password",
                        "csrf_token": csrf_of(guesser),
                    },
                ).status_code
                == 400
            )
    with TestClient(web_app, client=("198.51.100.7", 5000)) as late:
        assert (
            late.post(
                "/login",
                data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(late)},
            ).status_code
            == 429
        )


def test_successful_login_clears_earlier_failures(client, session):
    user = make_user(session, university=make_university(session))
    for _ in range(4):  # one short of the lock-out
        client.post(
            "/login",
            data={"email": user.email, "password": "wrong-password", "csrf_token": csrf_of(client)},
        )
    login(client, user)
    client.cookies.clear()
    for _ in range(4):
        assert (
            client.post(
                "/login",
                data={
                    "email": user.email,
                    "password": "wrong-password",
                    "csrf_token": csrf_of(client),
                },
            ).status_code
            == 400
        )
