"""Limits on guessing: logins, certificate look-ups and names tried in enrollments, counted in the database so that every
app instance sees the same counts."""

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.auth.models import ThrottleEvent
from app.db import utcnow
from app.errors import TooManyRequests
from app.i18n import N_
from app.security import keys

MINUTES = 15


def _key(value: str) -> str:
    # Keyed hash: the table never holds an email address, an IP address or an ID number.
    return keys().lookup_hash(value)


def attempt(session: Session, limits: list[tuple[str, str, int]]) -> None:
    """Count one attempt under each (scope, value, limit); refuse when any is over its limit.

    The attempt is committed before the caller does the slow part (a password check, a look-up)
    so that parallel requests see each other: counting only failures afterwards would let a
    burst of simultaneous guesses all pass the check."""
    since = utcnow() - timedelta(minutes=MINUTES)
    for scope, value, _ in limits:
        _add(session, scope, value, since)
    session.commit()
    for scope, value, limit in limits:
        if _count(session, scope, value, since) > limit:
            raise _too_many()


def record(session: Session, events: list[tuple[str, str]]) -> None:
    """Count events (a wrong name, say) under each (scope, value), for later attempts to meet."""
    since = utcnow() - timedelta(minutes=MINUTES)
    for scope, value in events:
        _add(session, scope, value, since)
    session.commit()


def refuse_when_reached(session: Session, limits: list[tuple[str, str, int]]) -> None:
    """Refuse before doing anything once a scope has reached its limit of recorded events.

    Checked before every attempt, whatever it would have answered: a limit that only the
    failing case runs into tells the caller which case it was."""
    since = utcnow() - timedelta(minutes=MINUTES)
    for scope, value, limit in limits:
        if _count(session, scope, value, since) >= limit:
            raise _too_many()


def _too_many() -> TooManyRequests:
    return TooManyRequests(N_("Too many attempts. Try again in %(minutes)s minutes."),
                           params={"minutes": MINUTES})


def _add(session: Session, scope: str, value: str, since) -> None:
    # Events older than the window are dropped as new ones come, so the table stays small.
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.scope == scope,
                                                col(ThrottleEvent.at) < since))
    session.add(ThrottleEvent(scope=scope, key_hash=_key(value)))


def _count(session: Session, scope: str, value: str, since) -> int:
    return session.exec(select(func.count()).select_from(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value),
        col(ThrottleEvent.at) >= since)).one()


def clear(session: Session, scope: str, value: str) -> None:
    session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value)))
