"""Sessions: idle and absolute ends (times set in the database, not waited for), last seen
written at most once a minute, a new id at login and at privilege changes, and the owner's
list of logins with revoke and "log out everywhere else"."""

from datetime import timedelta

from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth.models import UserSession
from app.db import utcnow
from tests.factories import csrf_of, enrol_second_factor, login
from tests.html import texts

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _only_session(session) -> UserSession:
    session.expire_all()
    return session.exec(select(UserSession)).one()


def _change(session, row: UserSession, **times) -> None:
    for name, value in times.items():
        setattr(row, name, value)
    session.add(row)
    session.commit()


def test_a_session_idle_too_long_has_ended(staff_a, session):
    row = _only_session(session)
    _change(session, row, last_seen_at=utcnow() - timedelta(minutes=29))
    assert staff_a.get("/staff").status_code == 200  # 29 minutes: still there, seen again
    row = _only_session(session)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)
    _change(session, row, last_seen_at=utcnow() - timedelta(minutes=31))
    answer = staff_a.get("/staff", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_session_ends_at_its_absolute_end_however_busy(staff_a, session):
    row = _only_session(session)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    _change(session, row, expires_at=utcnow() - timedelta(seconds=1))
    assert staff_a.get("/staff", follow_redirects=False).status_code == 303


def test_the_idle_clock_is_written_at_most_once_a_minute(staff_a, session):
    row = _only_session(session)
    seen = utcnow() - timedelta(seconds=20)
    _change(session, row, last_seen_at=seen)
    for _ in range(3):
        assert staff_a.get("/staff").status_code == 200
    assert _only_session(session).last_seen_at == seen  # no write within the minute
    _change(session, _only_session(session), last_seen_at=utcnow() - timedelta(seconds=70))
    staff_a.get("/staff")
    assert _only_session(session).last_seen_at > utcnow() - timedelta(seconds=5)


def test_login_gives_a_new_session_id(client, session, staff_a):
    first = staff_a.client.cookies.get("dandelion_session")
    login(staff_a.client, staff_a.user)
    assert staff_a.client.cookies.get("dandelion_session") != first
    assert len(session.exec(select(UserSession)).all()) == 1  # the earlier one ended


def test_setting_up_a_second_factor_ends_the_other_logins_and_rotates_this_one(
    staff_a, new_client, session
):
    elsewhere = new_client()
    login(elsewhere, staff_a.user)
    before = staff_a.client.cookies.get("dandelion_session")
    enrol_second_factor(staff_a.client, staff_a.user.email)
    assert staff_a.client.cookies.get("dandelion_session") != before
    assert staff_a.get("/staff").status_code == 200
    assert elsewhere.get("/staff", follow_redirects=False).status_code == 303
    session.expire_all()
    assert len(session.exec(select(UserSession)).all()) == 1
    # A rotation never lengthens the login's absolute end.
    row = _only_session(session)
    assert row.expires_at - row.created_at <= timedelta(hours=12)


def test_the_account_page_lists_the_logins_and_revokes_one(staff_a, new_client, session):
    phone = new_client()
    phone.headers["User-Agent"] = CHROME
    login(phone, staff_a.user)
    page = staff_a.get("/account")
    assert "Chrome 120 · Windows 10" in texts(page, "table.sessions td")
    assert "本浏览器" in texts(page, "table.sessions td")  # this browser: no revoke button
    phone_row = session.exec(select(UserSession).where(UserSession.user_agent == CHROME)).one()
    path = f"/account/sessions/{phone_row.id}/revoke"
    assert staff_a.post(path, data={}).status_code == 403  # CSRF
    done = staff_a.post(path, data={"csrf_token": staff_a.csrf("/account")}, follow_redirects=False)
    assert done.status_code == 303
    assert phone.get("/staff", follow_redirects=False).status_code == 303
    assert staff_a.get("/staff").status_code == 200
    assert session.exec(
        select(AuditEvent).where(AuditEvent.action == "session.revoke")
    ).one().object_id == str(phone_row.id)


def test_nobody_revokes_another_persons_session(staff_a, staff_b, session):
    theirs = session.exec(select(UserSession).where(UserSession.user_id == staff_b.user.id)).one()
    refused = staff_a.post(
        f"/account/sessions/{theirs.id}/revoke", data={"csrf_token": staff_a.csrf("/account")}
    )
    assert refused.status_code == 404
    assert staff_b.get("/staff").status_code == 200


def test_log_out_everywhere_else(staff_a, new_client, session):
    others = [new_client() for _ in range(2)]
    for other in others:
        login(other, staff_a.user)
    assert staff_a.post("/account/sessions/revoke-others", data={}).status_code == 403
    done = staff_a.post(
        "/account/sessions/revoke-others",
        data={"csrf_token": csrf_of(staff_a.client, "/account")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert all(o.get("/staff", follow_redirects=False).status_code == 303 for o in others)
    assert staff_a.get("/staff").status_code == 200
    assert len(session.exec(select(UserSession)).all()) == 1
