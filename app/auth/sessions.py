"""Logins as server-side sessions: the cookie holds a random token, the table its digest.

A session ends settings.session_hours after the login whatever happens (expires_at), and
after settings.session_idle_minutes without a request. The idle clock is last_seen_at, kept to
the minute: writing it on every request would make every page view a write (on SQLite each one
waits for the single writer; on PostgreSQL each leaves a dead row for vacuum), so an idle limit
of 30 minutes is in effect between 29 and 30.
"""

import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from ua_parser import parse

from app.audit import service as audit
from app.auth.models import User, UserSession
from app.db import id_of, utcnow
from app.errors import NotFound
from app.i18n import N_
from app.security import token_digest

SEEN_PRECISION = timedelta(minutes=1)


class Limits:
    """How long a session lasts: from the settings of the app serving the request."""

    def __init__(self, *, hours: int, idle_minutes: int):
        self.lifetime = timedelta(hours=hours)
        self.idle = timedelta(minutes=idle_minutes)

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(hours=settings.session_hours, idle_minutes=settings.session_idle_minutes)

    @property
    def cookie_seconds(self) -> int:
        return int(self.lifetime.total_seconds())


def start(
    session: Session, user: User, limits: Limits, *, user_agent: str = "", address: str = ""
) -> str:
    """A new login of the user (audited); the cookie's token is returned."""
    token = new(session, user, limits, user_agent=user_agent, address=address)
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, user.actor, "user.login", "user", user.id)
    return token


def new(
    session: Session,
    user: User,
    limits: Limits,
    *,
    user_agent: str = "",
    address: str = "",
    expires_at: datetime | None = None,
) -> str:
    """A session for the user; the cookie's token is returned, only its digest is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # The user's logins that ran out are dropped as a new one begins, so the list stays short.
    session.execute(
        delete(UserSession).where(
            col(UserSession.user_id) == user.id,
            (col(UserSession.expires_at) <= now)
            | (col(UserSession.last_seen_at) <= now - limits.idle),
        )
    )
    session.add(
        UserSession(
            token_hash=token_digest(token),
            user_id=id_of(user),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at or now + limits.lifetime,
            user_agent=user_agent[:300],
            address=address[:45],
        )
    )
    return token


def of_token(session: Session, token: str) -> UserSession | None:
    return session.exec(
        select(UserSession).where(UserSession.token_hash == token_digest(token))
    ).first()


def user_for(session: Session, token: str, limits: Limits) -> User | None:
    """The user whose live session the token is, noting that it was seen; None when the
    session is unknown, over its lifetime or idle too long."""
    row = of_token(session, token)
    now = utcnow()
    if row is None or row.expires_at <= now or row.last_seen_at <= now - limits.idle:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    _note_seen(session, row, now)
    return user


def _note_seen(session: Session, row: UserSession, now) -> None:
    if now - row.last_seen_at < SEEN_PRECISION:
        return
    # A transaction of its own, as for API tokens (auth.service): a page that only reads never
    # commits, and a refused request rolls back, yet both were the user at work.
    with session.get_bind().engine.begin() as connection:
        connection.execute(
            update(UserSession)
            .where(
                col(UserSession.id) == row.id,
                col(UserSession.last_seen_at) < now - SEEN_PRECISION,
            )
            .values(last_seen_at=now)
        )
    set_committed_value(row, "last_seen_at", now)


def end(session: Session, token: str) -> None:
    row = of_token(session, token)
    if row is not None:
        session.delete(row)


def end_all(session: Session, user: User) -> int:
    """End every login of the user at once (the next request with any of them is anonymous)."""
    ended = session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    return int(ended.rowcount)  # type: ignore[attr-defined]


def rotate(session: Session, user: User, token: str | None, limits: Limits) -> str:
    """After a change of what the account may do (its password, its second factor, its role):
    every other login of the user ends and this browser goes on under a new session id, so a
    copy of any cookie from before is worth nothing. The login's absolute end stays where it
    was: a rotation never lengthens it. Returns the new token."""
    earlier = of_token(session, token) if token else None
    end_all(session, user)
    return new(
        session,
        user,
        limits,
        user_agent=earlier.user_agent if earlier else "",
        address=earlier.address if earlier else "",
        expires_at=earlier.expires_at if earlier else None,
    )


def list_of(session: Session, user: User, limits: Limits) -> list[UserSession]:
    """The user's live sessions, the most recently seen first."""
    now = utcnow()
    return list(
        session.exec(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                col(UserSession.expires_at) > now,
                col(UserSession.last_seen_at) > now - limits.idle,
            )
            .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.id).desc())
        )
    )


def revoke(session: Session, user: User, session_id: int) -> None:
    """End one of the user's own sessions (audited); another person's is not found."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound(N_("No such session"))
    session.delete(row)
    audit.record(session, user.actor, "session.revoke", "user_session", session_id)


def revoke_others(session: Session, user: User, token: str) -> int:
    """Log out everywhere else: every session of the user but this browser's (audited)."""
    ended = session.execute(
        delete(UserSession).where(
            col(UserSession.user_id) == user.id,
            col(UserSession.token_hash) != token_digest(token),
        )
    )
    count = int(ended.rowcount)  # type: ignore[attr-defined]
    audit.record(session, user.actor, "session.revoke_others", "user", user.id, sessions=count)
    return count


@lru_cache(maxsize=256)
def browser_of(user_agent: str) -> str:
    """ "Chrome 120 on Windows 10", from the User-Agent the session began with."""
    if not user_agent:
        return ""
    parsed = parse(user_agent)
    browser = parsed.user_agent
    system = parsed.os
    name = f"{browser.family} {browser.major or ''}".strip() if browser else user_agent[:60]
    if system and system.family != "Other":
        return f"{name} · {system.family} {system.major or ''}".strip()
    return name
