"""Limits on guessing: logins and certificate look-ups, counted in the database so that every
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
        session.execute(delete(ThrottleEvent).where(ThrottleEvent.scope == scope,
                                                    col(ThrottleEvent.at) < since))
        session.add(ThrottleEvent(scope=scope, key_hash=_key(value)))
    session.commit()
    for scope, value, limit in limits:
        count = session.exec(select(func.count()).select_from(ThrottleEvent).where(
            ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value),
            col(ThrottleEvent.at) >= since)).one()
        if count > limit:
            raise TooManyRequests(N_("Too many attempts. Try again in %(minutes)s minutes."),
                                  params={"minutes": MINUTES})


def clear(session: Session, scope: str, value: str) -> None:
    session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value)))
