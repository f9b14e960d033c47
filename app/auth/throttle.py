"""Limits on guessing: failed logins and certificate look-ups, counted in the database."""

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.auth.models import ThrottleEvent
from app.db import utcnow
from app.errors import TooManyRequests
from app.i18n import N_
from app.security import keys


def _key(value: str) -> str:
    # Keyed hash: the table never holds an email address, an IP address or an ID number.
    return keys().lookup_hash(value)


def check(session: Session, scope: str, value: str, *, limit: int, minutes: int) -> None:
    since = utcnow() - timedelta(minutes=minutes)
    count = session.exec(select(func.count()).select_from(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value),
        col(ThrottleEvent.at) >= since)).one()
    if count >= limit:
        raise TooManyRequests(N_("Too many attempts. Try again in %(minutes)s minutes."),
                              params={"minutes": minutes})


def hit(session: Session, scope: str, value: str, *, minutes: int) -> None:
    session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value),
        col(ThrottleEvent.at) < utcnow() - timedelta(minutes=minutes)))
    session.add(ThrottleEvent(scope=scope, key_hash=_key(value)))


def clear(session: Session, scope: str, value: str) -> None:
    session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.scope == scope, ThrottleEvent.key_hash == _key(value)))
