"""Limits on guessing: logins, certificate look-ups and names tried in enrollments, counted
in the database so that every app instance sees the same counts.

Two kinds of limit. One counts events from one address (or one address and one account):
a guesser is slowed down. The other guards a victim (an account, an ID number) against
guessers with many addresses; it counts the distinct addresses that tried, so that one
address alone can never lock the real person out, however often it tries.
"""

import ipaddress
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, distinct, insert, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func
from starlette.requests import HTTPConnection

from app.auth.models import ThrottleEvent
from app.db import utcnow
from app.errors import TooManyRequests
from app.i18n import N_
from app.security import keys_of

MINUTES = 15


class Limit(NamedTuple):
    scope: str
    value: str
    most: int
    by_address: bool = False  # count the distinct addresses that tried, not the attempts


def client_address(request: HTTPConnection) -> str:
    """The address limits count: an IPv6 client counts as its /64, since one subscriber holds a
    whole /64 and could otherwise take a new address for every guess."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4 behind IPv6: mapped (::ffff:a.b.c.d) or 6to4 (2002:a.b.c.d::/48), whose owner
        # holds 65,536 /64s; each is its IPv4 address.
        if address.ipv4_mapped or address.sixtofour:
            return str(address.ipv4_mapped or address.sixtofour)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(session: Session, value: str) -> str:
    # Keyed hash: the table never holds an email address, an IP address or an ID number.
    return keys_of(session).lookup_hash(value)


def attempt(session: Session, limits: Sequence[tuple], *, source: str = "") -> None:
    """Count one attempt from source under each limit; refuse when any is over it.

    The attempt is committed before the caller does the slow part (a password check, a look-up)
    so that parallel requests see each other: counting only failures afterwards would let a
    burst of simultaneous guesses all pass the check. An attempt refused at once is not
    counted, so a guesser who keeps trying does not keep the limit closed."""
    checked = [Limit(*limit) for limit in limits]
    refuse_when_reached(session, checked)
    _add_all(session, checked, source)
    if any(n > limit.most for n, limit in zip(_counts(session, checked), checked, strict=True)):
        raise _too_many()


def record(session: Session, events: list[tuple[str, str]], *, source: str = "") -> None:
    """Count events (a wrong name, say) under each (scope, value), for later attempts to meet."""
    _add_all(session, [Limit(scope, value, 0) for scope, value in events], source)


def refuse_when_reached(session: Session, limits: Sequence[tuple]) -> None:
    """Refuse before doing anything once a limit is reached.

    Checked before every attempt, whatever it would have answered: a limit that only the
    failing case runs into tells the caller which case it was."""
    checked = [Limit(*limit) for limit in limits]
    if any(n >= limit.most for n, limit in zip(_counts(session, checked), checked, strict=True)):
        raise _too_many()


def clear(session: Session, scope: str, value: str) -> None:
    session.execute(
        delete(ThrottleEvent).where(
            col(ThrottleEvent.scope) == scope, col(ThrottleEvent.key_hash) == _key(session, value)
        )
    )


def _since(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(minutes=MINUTES)


def _too_many() -> TooManyRequests:
    return TooManyRequests(
        N_("Too many attempts. Try again in %(minutes)s minutes."), params={"minutes": MINUTES}
    )


def _add_all(session: Session, limits: list[Limit], source: str) -> None:
    # Events older than the window are dropped as new ones come, so the table stays small:
    # one statement for all the scopes of this attempt.
    now = utcnow()
    session.execute(
        _dropping(), {"scopes": sorted({limit.scope for limit in limits}), "since": _since(now)}
    )
    source_hash = _key(session, source) if source else None
    session.execute(
        _adding(),
        [
            {
                "scope": limit.scope,
                "key_hash": _key(session, limit.value),
                "source_hash": source_hash,
                "at": now,
            }
            for limit in limits
        ],
    )
    session.commit()


def _counts(session: Session, limits: list[Limit]) -> list[int]:
    """Each limit's count in the window, all in one statement: an enrollment checks five
    limits twice, and each statement costs more in SQLAlchemy than in the database."""
    if not limits:
        return []
    params: dict = {"since": _since()}
    for i, limit in enumerate(limits):
        params[f"s{i}"], params[f"k{i}"] = limit.scope, _key(session, limit.value)
    statement = _counting(tuple(limit.by_address for limit in limits))
    return [int(n) for n in session.execute(statement, params).one()]


# The statements are built once per shape, their values bound at each call: building one took
# more of an enrollment's time than the database took to answer it (bench/enroll_concurrency.py).
@cache
def _counting(by_address: tuple[bool, ...]):
    picks = [
        and_(
            col(ThrottleEvent.scope) == bindparam(f"s{i}"),
            col(ThrottleEvent.key_hash) == bindparam(f"k{i}"),
        )
        for i in range(len(by_address))
    ]
    counts = [
        func.count(
            distinct(col(ThrottleEvent.source_hash)) if distinct_sources else col(ThrottleEvent.id)
        ).filter(pick)
        for distinct_sources, pick in zip(by_address, picks, strict=True)
    ]
    return sa_select(*counts).where(or_(*picks), col(ThrottleEvent.at) >= bindparam("since"))


@cache
def _dropping():
    return delete(ThrottleEvent).where(
        col(ThrottleEvent.scope).in_(bindparam("scopes", expanding=True)),
        col(ThrottleEvent.at) < bindparam("since"),
    )


@cache
def _adding():
    return insert(ThrottleEvent)
