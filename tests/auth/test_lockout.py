"""Lock-out after settings.lockout_failures wrong passwords, per account and address, with its
end shown in China time; the security administrator sees and lifts it."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.auth.models import LoginLock
from app.db import utcnow
from tests.factories import PASSWORD, csrf_of, login, make_university, make_user
from tests.html import text


def _try(client, email: str, password: str = "wrong-password"):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_of(client)}
    )


def test_the_fifth_wrong_password_locks_with_the_time_it_ends(web_app, session):
    user = make_user(session, university=make_university(session))
    with TestClient(web_app, client=("203.0.113.9", 5000)) as guesser:
        for _ in range(4):
            assert _try(guesser, user.email).status_code == 400
        before = clock.now()
        locked = _try(guesser, user.email)
        assert locked.status_code == 429
        message = text(locked, "p.error")
        ends = before + timedelta(minutes=15)
        assert (
            ends.strftime("%H:%M") in message
            or (ends + timedelta(minutes=1)).strftime("%H:%M") in message
        )
        # The right password from that address is refused too, and no session is made.
        assert _try(guesser, user.email, PASSWORD).status_code == 429
        assert guesser.cookies.get("dandelion_session") is None
    with TestClient(web_app, client=("198.51.100.7", 5000)) as owner:
        login(owner, user)  # the real user, elsewhere, is not locked out
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
    ).all()
    assert actions.count("user.login_failed") == 5 and "user.lockout" in actions
    details = " ".join(session.exec(select(AuditEvent.detail)).all())
    assert user.email not in details and "wrong-password" not in details


def test_an_unknown_email_is_locked_the_same_way(client):
    answers = [_try(client, "nobody@example.edu.cn").status_code for _ in range(6)]
    assert answers == [400, 400, 400, 400, 429, 429]


def test_the_lock_ends_when_its_time_is_up(client, session):
    user = make_user(session, university=make_university(session))
    for _ in range(5):
        _try(client, user.email)
    lock = session.exec(select(LoginLock)).one()
    lock.locked_until = utcnow() - timedelta(seconds=1)
    session.add(lock)
    session.commit()
    login(client, user)


def test_the_security_administrator_sees_and_lifts_the_lock(security_admin, client, session):
    user = make_user(session, university=make_university(session))
    for _ in range(5):
        _try(client, user.email)
    page = security_admin.get("/security/accounts")
    row = text(page, f"#account-{user.id} td.lock")
    assert row.startswith("锁定至")
    path = f"/security/accounts/{user.id}/unlock"
    assert security_admin.post(path, data={}).status_code == 403  # CSRF
    done = security_admin.post(
        path, data={"csrf_token": security_admin.csrf("/security/accounts")}, follow_redirects=False
    )
    assert done.status_code == 303
    assert session.exec(select(LoginLock)).first() is None
    login(client, user)
    unlocked = session.exec(select(AuditEvent).where(AuditEvent.action == "user.unlock")).one()
    assert unlocked.actor == security_admin.user.actor


def test_failures_long_ago_are_forgotten(client, session):
    user = make_user(session, university=make_university(session))
    for _ in range(4):
        _try(client, user.email)
    lock = session.exec(select(LoginLock)).one()
    lock.last_failure_at = utcnow() - timedelta(minutes=16)
    session.add(lock)
    session.commit()
    for _ in range(4):
        assert _try(client, user.email).status_code == 400
