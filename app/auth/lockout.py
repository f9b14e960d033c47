"""Lock-out after settings.lockout_failures wrong passwords, for settings.lockout_minutes.

Failures are counted, and the lock holds, per account *and address*. An account-wide lock
would hand anyone who knows a colleague's email a way to keep them out (five wrong passwords
every quarter of an hour), which the throttle (app.auth.throttle) was built to prevent. Here
the guesser's address is shut out of that account, and the real user at their own desk logs in
as usual; guessers with many addresses meet the throttle's per-account limit, which counts the
distinct addresses that tried. The lock is keyed on the email as typed, so an address that
guesses at an email nobody has is locked the same way: the answer never tells whether an
account exists. The security administrator sees the locks of each account and can lift them.
"""

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.models import LoginLock, User
from app.db import id_of, utcnow
from app.security import keys_of


class Policy:
    def __init__(self, *, failures: int, minutes: int):
        self.failures, self.duration = failures, timedelta(minutes=minutes)

    @classmethod
    def of(cls, settings) -> "Policy":
        return cls(failures=settings.lockout_failures, minutes=settings.lockout_minutes)


def _hash(session: Session, value: str) -> str:
    return keys_of(session).lookup_hash(value)


def _account(email: str) -> str:
    return email.strip().lower()


def locked_until(session: Session, email: str, source: str) -> datetime | None:
    """When the lock of this account for this address ends, or None when there is none."""
    row = session.exec(
        select(LoginLock).where(
            LoginLock.account_hash == _hash(session, _account(email)),
            LoginLock.source_hash == _hash(session, source),
        )
    ).first()
    if row is None or row.locked_until is None or row.locked_until <= utcnow():
        return None
    return row.locked_until


def fail(
    session: Session, email: str, source: str, policy: Policy, *, user: User | None
) -> datetime | None:
    """Count a wrong password; returns the lock's end when this failure locked the account
    for this address (audited for an account that exists)."""
    account, address = _hash(session, _account(email)), _hash(session, source)
    now = utcnow()
    pair = (col(LoginLock.account_hash) == account) & (col(LoginLock.source_hash) == address)
    # One statement, so that simultaneous failures each count: failures older than the lock's
    # duration are forgotten, and so is a lock that has run out.
    counted = session.execute(
        update(LoginLock)
        .where(pair)
        .values(
            failures=case(
                (col(LoginLock.last_failure_at) < now - policy.duration, 1),
                (col(LoginLock.locked_until) <= now, 1),
                else_=col(LoginLock.failures) + 1,
            ),
            last_failure_at=now,
            locked_until=None,
        )
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(
                    LoginLock(
                        account_hash=account, source_hash=address, failures=1, last_failure_at=now
                    )
                )
        except IntegrityError:  # the first failure of a burst, counted by a parallel request
            return fail(session, email, source, policy, user=user)
    failures = session.exec(select(LoginLock.failures).where(pair)).one()
    if failures < policy.failures:
        return None
    until = now + policy.duration
    session.execute(update(LoginLock).where(pair).values(locked_until=until, failures=0))
    if user is not None:
        audit.record(session, "anonymous", "user.lockout", "user", user.id, until=until.isoformat())
    return until


def succeeded(session: Session, email: str, source: str) -> None:
    """The right password from this address: its earlier failures are forgotten."""
    session.execute(
        delete(LoginLock).where(
            col(LoginLock.account_hash) == _hash(session, _account(email)),
            col(LoginLock.source_hash) == _hash(session, source),
        )
    )


def locks_of(session: Session, users: list[User]) -> dict[int, datetime]:
    """The latest end of a lock in force for each of these accounts, by user id."""
    by_hash = {_hash(session, u.email): id_of(u) for u in users}
    if not by_hash:
        return {}
    rows = session.exec(
        select(LoginLock.account_hash, func.max(LoginLock.locked_until))
        .where(col(LoginLock.account_hash).in_(by_hash), col(LoginLock.locked_until) > utcnow())
        .group_by(col(LoginLock.account_hash))
    )
    return {by_hash[account]: until for account, until in rows if until is not None}


def unlock(session: Session, user: User, *, actor: User) -> int:
    """Lift every lock and forget every failure of the account, from any address (audited)."""
    lifted = session.execute(
        delete(LoginLock).where(
            col(LoginLock.account_hash) == _hash(session, user.email),
            col(LoginLock.locked_until) > utcnow(),
        )
    )
    session.execute(
        delete(LoginLock).where(col(LoginLock.account_hash) == _hash(session, user.email))
    )
    count = int(lifted.rowcount)  # type: ignore[attr-defined]
    audit.record(session, actor.actor, "user.unlock", "user", user.id, addresses=count)
    return count
