"""The audit log's chain: every event sealed with an HMAC over its content and the previous
event's mac, so a changed, removed or inserted event breaks `dandelion audit verify`.

Why events are sealed after their commit, not when they are written: an event is written in
the transaction of what it records (an enrollment, a login), and several app instances write
at once. Chaining at insert would make every such transaction read and hold the chain's head
until it commits, so all enrollments everywhere would wait on one row for their whole life,
and a rolled-back transaction would leave a hole. Instead events are inserted unsealed, and
the sealer gives the committed ones their place (seq 1, 2, 3 ...) in the order it finds them
(commit order, near enough: ids are handed out at insert), in a short transaction of its own
under a lock: a PostgreSQL advisory lock, or SQLite's one writer (BEGIN IMMEDIATE). It runs
right after every commit that wrote an event (the after_commit hook below), again in
`dandelion audit verify` and in the job queue's periodic task, so an event whose process died
between its commit and its seal is sealed by the next one. The unique index on seq would
refuse two sealers' duplicate place, if the lock were ever missing.

A prune deletes a prefix of the chain and leaves an anchor (the last pruned event's seq and
mac, with a mac of its own), from which the rest still verifies. The triggers of migration
0018 refuse any UPDATE of a sealed event, any change of an event's content, and any DELETE
of an event no anchor covers or younger than 180 days. What a chain cannot show by itself is
the newest events cut off: `verify` prints the head, for the operator to note elsewhere.
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, event, func, select, update
from sqlmodel import Session, col

from app.audit.models import AuditAnchor, AuditEvent
from app.db import utcnow
from app.security import keys_of

log = logging.getLogger(__name__)
GENESIS = "0" * 64  # the "previous mac" of the first event ever
BATCH = 1000
MIN_RETENTION_DAYS = 180  # China's Cybersecurity Law: six months; the trigger holds it too
# pg_advisory_xact_lock's key for "the audit chain's head" (any constant no other lock uses).
PG_LOCK = 0x6175646974  # "audit"
UNSEALED = "audit_unsealed"  # session.info: this transaction wrote events


@dataclass(frozen=True)
class Break:
    """The first event where the chain does not hold."""

    event_id: int | None
    seq: int
    reason: str


@dataclass(frozen=True)
class Report:
    events: int
    head_seq: int
    head_mac: str
    broken: Break | None


def mac_of(key: bytes, previous: str, seq: int, row) -> str:
    """An event's mac: over the previous mac, its place and every column of the event."""
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    content = [
        seq,
        row.id,
        at.astimezone(UTC).isoformat(),
        row.actor,
        row.action,
        row.object_type,
        row.object_id,
        row.detail,
    ]
    message = previous + "\n" + json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def anchor_mac_of(key: bytes, seq: int, mac: str, pruned_before: datetime, events: int) -> str:
    message = f"anchor\n{seq}\n{mac}\n{pruned_before.astimezone(UTC).isoformat()}\n{events}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _key(session: Session) -> bytes:
    return keys_of(session).audit_key


def _lock(session: Session) -> None:
    """Take the chain's lock for this transaction; the session must have none open."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(PG_LOCK)))
    else:
        # The write lock first, so the head read next cannot be stale when we write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_EVENT_COLUMNS = (
    col(AuditEvent.id),
    col(AuditEvent.seq),
    col(AuditEvent.at),
    col(AuditEvent.actor),
    col(AuditEvent.action),
    col(AuditEvent.object_type),
    col(AuditEvent.object_id),
    col(AuditEvent.detail),
    col(AuditEvent.mac),
)


def latest_anchor(session: Session) -> AuditAnchor | None:
    newest = select(AuditAnchor).order_by(col(AuditAnchor.seq).desc()).limit(1)
    return session.scalars(newest).first()


def _head(session: Session) -> tuple[int, str]:
    last = session.execute(
        select(col(AuditEvent.seq), col(AuditEvent.mac))
        .where(col(AuditEvent.seq).is_not(None))
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    if last is not None:
        return last[0], last[1]
    anchor = latest_anchor(session)
    return (anchor.seq, anchor.mac) if anchor else (0, GENESIS)


def seal(session: Session) -> int:
    """Seal every committed unsealed event, oldest id first; returns how many. Commits: call
    it on a session with no transaction of its own in progress."""
    session.commit()
    key, sealed = _key(session), 0
    while True:
        _lock(session)
        seq, previous = _head(session)
        rows = session.execute(
            select(*_EVENT_COLUMNS)
            .where(col(AuditEvent.seq).is_(None))
            .order_by(col(AuditEvent.id))
            .limit(BATCH)
        ).all()
        marks = []
        for row in rows:
            seq += 1
            previous = mac_of(key, previous, seq, row)
            marks.append({"b_id": row.id, "seq": seq, "mac": previous})
        if marks:
            session.connection().execute(
                update(AuditEvent)
                .where(col(AuditEvent.id) == bindparam("b_id"))
                .values(seq=bindparam("seq"), mac=bindparam("mac")),
                marks,
            )
        session.commit()
        sealed += len(marks)
        if len(rows) < BATCH:
            return sealed


def verify(session: Session) -> Report:
    """Seal what is committed, then check the whole chain from its start (or its anchor)."""
    seal(session)
    key = _key(session)
    anchor = latest_anchor(session)
    seq, previous = (anchor.seq, anchor.mac) if anchor else (0, GENESIS)
    if anchor and not hmac.compare_digest(
        anchor.anchor_mac,
        anchor_mac_of(key, anchor.seq, anchor.mac, anchor.pruned_before, anchor.events),
    ):
        return Report(0, seq, previous, Break(None, anchor.seq, "the prune anchor is forged"))
    checked = 0
    while True:
        rows = session.execute(
            select(*_EVENT_COLUMNS)
            .where(col(AuditEvent.seq) > seq)
            .order_by(col(AuditEvent.seq))
            .limit(BATCH)
        ).all()
        for row in rows:
            if row.seq != seq + 1:
                reason = f"events {seq + 1} to {row.seq - 1} are missing before it"
                return Report(checked, seq, previous, Break(row.id, row.seq, reason))
            if not hmac.compare_digest(row.mac or "", mac_of(key, previous, row.seq, row)):
                reason = "its content or its place was changed after it was sealed"
                return Report(checked, seq, previous, Break(row.id, row.seq, reason))
            seq, previous, checked = row.seq, row.mac, checked + 1
        if len(rows) < BATCH:
            return Report(checked, seq, previous, None)


def prune(session: Session, *, days: int, actor: str = "cli") -> int:
    """Delete the oldest events, those older than `days` (at least 180), keeping an anchor so
    the rest still verifies; audited. Only a prefix of the chain goes: an event older than the
    cut-off that was sealed after a younger one stays until the younger one goes too."""
    from app.audit import service as audit

    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"audit events are kept at least {MIN_RETENTION_DAYS} days")
    seal(session)
    before = utcnow() - timedelta(days=days)
    _lock(session)
    first_kept = session.execute(
        select(func.min(col(AuditEvent.seq))).where(
            col(AuditEvent.seq).is_not(None), col(AuditEvent.at) >= before
        )
    ).scalar()
    pruned = select(col(AuditEvent.seq), col(AuditEvent.mac)).where(
        col(AuditEvent.seq).is_not(None)
    )
    if first_kept is not None:
        pruned = pruned.where(col(AuditEvent.seq) < first_kept)
    last = session.execute(pruned.order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    anchor = latest_anchor(session)
    if last is None or (anchor is not None and last[0] <= anchor.seq):
        session.rollback()
        return 0
    count = last[0] - (anchor.seq if anchor else 0)
    key = _key(session)
    session.add(
        AuditAnchor(
            seq=last[0],
            mac=last[1],
            pruned_before=before,
            events=count,
            anchor_mac=anchor_mac_of(key, last[0], last[1], before, count),
        )
    )
    session.flush()  # the trigger lets an event go only once an anchor covers it
    session.execute(delete(AuditEvent).where(col(AuditEvent.seq) <= last[0]))
    audit.record(
        session, actor, "audit.prune", "audit_anchor", last[0], events=count, before=before
    )
    session.commit()
    return count


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    """A transaction that wrote events: seal them now, in a short transaction of its own (this
    one is over and can run no more SQL). Failing here loses nothing: the events are committed
    and the next seal takes them."""
    if not session.info.pop(UNSEALED, False) or "keys" not in session.info:
        return
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return  # a session bound to one connection's transaction: its events are not committed
    try:
        with Session(bind, info={"keys": session.info["keys"]}) as sealer:
            seal(sealer)
    except Exception:
        log.exception("audit events left unsealed; the next seal takes them")


@event.listens_for(Session, "after_rollback")
def _forget_unsealed(session: Session) -> None:
    session.info.pop(UNSEALED, None)
