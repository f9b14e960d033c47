"""The second factor through HTTP: two-step login, wrong and replayed codes, recovery codes,
who must have one, the security administrator's reset, CSRF on the new forms."""

import re

import pyotp
import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth.models import User, UserSession
from tests.factories import (
    PASSWORD,
    TOTP_SECRETS,
    csrf_of,
    enrol_second_factor,
    login,
    make_university,
    make_user,
    totp_code,
)


def _password(client, user, **extra):
    return client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(client), **extra},
        follow_redirects=False,
    )


def _code(client, code: str):
    return client.post(
        "/login/code",
        data={"code": code, "csrf_token": csrf_of(client, "/login/code")},
        follow_redirects=False,
    )


def _actions(session, user) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
    return list(session.exec(query.order_by(AuditEvent.id)))


def test_an_administrator_logs_in_in_two_steps_and_the_first_is_no_session(client, session):
    admin = make_user(session, role="admin")
    first = _password(client, admin, next="/admin/goals")
    assert first.status_code == 303 and first.headers["location"] == "/login/code"
    assert client.cookies.get("dandelion_session") is None
    assert session.exec(select(UserSession)).first() is None
    # The half-done login opens nothing.
    assert client.get("/admin", follow_redirects=False).headers["location"].startswith("/login")
    done = _code(client, totp_code(admin))
    assert done.status_code == 303 and done.headers["location"] == "/admin/goals"
    assert client.get("/admin").status_code == 200
    assert _actions(session, admin)[-1] == "user.login"


def test_a_wrong_code_is_shown_beside_the_field_and_audited(client, session):
    admin = make_user(session, role="admin")
    _password(client, admin)
    right = pyotp.TOTP(TOTP_SECRETS[admin.email]).now()
    wrong = _code(client, "000000" if right != "000000" else "111111")
    assert wrong.status_code == 400
    assert re.search(r'id="e-code"', wrong.text)
    assert client.cookies.get("dandelion_session") is None
    assert "user.login_failed" in _actions(session, admin)


def test_a_code_is_accepted_once(client, new_client, session):
    admin = make_user(session, role="admin")
    code = pyotp.TOTP(TOTP_SECRETS[admin.email]).now()
    _password(client, admin)
    assert _code(client, code).status_code == 303
    other = new_client()  # someone who saw the code over the shoulder, a second later
    _password(other, admin)
    replayed = _code(other, code)
    assert replayed.status_code == 400 and other.cookies.get("dandelion_session") is None


def test_the_code_step_is_throttled(client, session):
    admin = make_user(session, role="admin")
    _password(client, admin)
    right = pyotp.TOTP(TOTP_SECRETS[admin.email]).now()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(10):
        assert _code(client, wrong).status_code == 400
    assert _code(client, totp_code(admin)).status_code == 429


def test_the_code_step_needs_the_password_step_first(client, session):
    make_user(session, role="admin")
    page = client.get("/login/code", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    forged = client.post(
        "/login/code",
        data={"code": "123456", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert forged.status_code == 303 and forged.headers["location"] == "/login"
    client.cookies.set("dandelion_login", "eyJ1c2VyIjoxfQ.forged.signature")
    assert client.get("/login/code", follow_redirects=False).headers["location"] == "/login"


def test_a_password_changed_meanwhile_voids_the_half_done_login(client, session):
    admin = make_user(session, role="admin")
    _password(client, admin)
    user = session.get(User, admin.id)
    user.password_hash = user.password_hash + "x"  # as a reset elsewhere would change it
    session.add(user)
    session.commit()
    assert _code(client, totp_code(admin)).headers["location"] == "/login"


def test_enrolment_shows_a_qr_code_and_the_key_and_gives_ten_single_use_recovery_codes(
    client, new_client, session
):
    from app.auth import service as auth

    admin = auth.create_user(
        session, email="zhao.lei@dandelion.local", password=PASSWORD, role="admin", actor="t"
    )
    session.commit()
    first = _password(client, admin)
    assert first.headers["location"] == "/account/second-factor"
    page = client.get("/account/second-factor")
    assert "<svg" in page.text and 'id="totp-secret"' in page.text
    # Until it is set up, nothing else: not the admin pages, not the account page.
    assert client.get("/admin", follow_redirects=False).headers["location"] == (
        "/account/second-factor"
    )
    assert client.get("/tokens", follow_redirects=False).status_code == 303
    codes = enrol_second_factor(client, admin.email)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/admin").status_code == 200
    assert "user.totp_enrolled" in _actions(session, admin)
    session.expire_all()
    stored = session.get(User, admin.id)
    assert stored.totp_secret and TOTP_SECRETS[admin.email] not in stored.totp_secret
    page = client.get("/account/second-factor")
    assert not any(code in page.text for code in codes)  # shown once only

    lost_phone = new_client()
    _password(lost_phone, admin)
    assert _code(lost_phone, codes[0].lower()).status_code == 303  # typed in any case
    assert "user.recovery_code_used" in _actions(session, admin)
    again = new_client()
    _password(again, admin)
    assert _code(again, codes[0]).status_code == 400  # spent
    assert _code(again, codes[1]).status_code == 303


def test_a_staff_member_of_a_university_that_requires_it_must_enrol(
    security_admin, new_client, session
):
    university = make_university(session)
    staff = make_user(session, university=university)
    elsewhere = make_user(session, university=make_university(session))
    refused = security_admin.post(
        f"/security/universities/{university.id}/second-factor",
        data={"required": "yes"},
        follow_redirects=False,
    )
    assert refused.status_code == 403  # no CSRF token
    set_ = security_admin.post(
        f"/security/universities/{university.id}/second-factor",
        data={"required": "yes", "csrf_token": security_admin.csrf("/security/accounts")},
        follow_redirects=False,
    )
    assert set_.status_code == 303
    browser = new_client()
    assert _password(browser, staff).headers["location"] == "/account/second-factor"
    assert browser.get("/staff", follow_redirects=False).status_code == 303
    other = new_client()
    assert _password(other, elsewhere).headers["location"] == "/staff"  # theirs is optional


def test_staff_may_choose_a_second_factor_and_turn_it_off(staff_a, session):
    codes = enrol_second_factor(staff_a.client, staff_a.user.email)
    assert len(codes) == 10
    page = staff_a.get("/account/second-factor")
    assert "/account/second-factor/off" in page.text
    off = staff_a.post(
        "/account/second-factor/off",
        data={"code": totp_code(staff_a.user), "csrf_token": staff_a.csrf("/account")},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert staff_a.get("/staff").status_code == 200  # this browser goes on, under a new id
    assert "user.totp_off" in _actions(session, staff_a.user)


def test_an_administrator_cannot_turn_theirs_off(admin):
    refused = admin.post(
        "/account/second-factor/off",
        data={"code": totp_code(admin.user), "csrf_token": admin.csrf("/account")},
    )
    assert refused.status_code == 409
    assert admin.get("/admin").status_code == 200


def test_the_security_administrator_resets_a_lost_second_factor(
    security_admin, admin, session, new_client
):
    page = security_admin.get("/security/accounts")
    assert page.status_code == 200 and admin.user.email in page.text
    path = f"/security/accounts/{admin.user.id}/second-factor/reset"
    assert security_admin.post(path, data={}).status_code == 403  # CSRF
    reset = security_admin.post(
        path, data={"csrf_token": security_admin.csrf("/security/accounts")}, follow_redirects=False
    )
    assert reset.status_code == 303
    assert admin.get("/admin", follow_redirects=False).status_code == 303  # logged out
    assert "user.totp_reset" in _actions(session, admin.user)
    browser = new_client()
    assert _password(browser, admin.user).headers["location"] == "/account/second-factor"


@pytest.mark.parametrize("persona", ["admin", "auditor", "staff_a"])
def test_only_the_security_administrator_reaches_the_security_page(persona, request):
    someone = request.getfixturevalue(persona)
    assert someone.get("/security/accounts").status_code == 403


def test_the_login_page_after_a_code_step_leaves_no_half_done_login(client, session):
    admin = make_user(session, role="admin")
    login(client, admin)
    assert client.cookies.get("dandelion_login") is None
    login(client, admin)
    assert client.get("/admin").status_code == 200
