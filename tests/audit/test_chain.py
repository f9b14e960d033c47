"""The audit log's HMAC chain: sealed in commit order after each commit, refused changes in the
database itself, and `dandelion audit verify` catching what is done with the triggers off."""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from app.audit import chain
from app.audit import service as audit
from app.audit.models import AuditAnchor, AuditEvent
from app.db import utcnow
from tests.conftest import run_cli


def _record(session, action: str = "course.update", at=None, **detail) -> AuditEvent:
    audit.record(session, "user:1", action, "course", 7, **detail)
    [event] = [o for o in session.new if isinstance(o, AuditEvent)]
    if at is not None:
        event.at = at
    session.commit()
    return event


def _chain(new_session) -> list[tuple[int | None, str | None]]:
    with new_session() as s:
        rows = s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [(e.seq, e.mac) for e in rows]


def _verify(new_session) -> chain.Report:
    with new_session() as s:  # closed: an open read would hold PostgreSQL's next TRUNCATE
        return chain.verify(s)


@contextmanager
def triggers_off(engine):
    """As someone with the database's own rights would: the triggers out of the way (SQLite:
    dropped from this test's copy; PostgreSQL: off for this one transaction)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for name in ("audit_event_sealed", "audit_event_kept", "audit_anchor_kept"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        yield conn


def test_each_commit_seals_its_events_in_order(session, new_session):
    for n in range(3):
        _record(session, n=n)
    sealed = _chain(new_session)
    assert [seq for seq, _ in sealed] == [1, 2, 3]
    assert all(len(mac or "") == 64 for _, mac in sealed) and len({m for _, m in sealed}) == 3
    report = _verify(new_session)
    assert report.broken is None and report.events == 3 and report.head_seq == 3


def test_a_rolled_back_event_leaves_no_hole(session, new_session):
    _record(session)
    audit.record(session, "user:1", "course.update", "course", 8)
    session.rollback()
    _record(session)
    assert [seq for seq, _ in _chain(new_session)] == [1, 2]
    assert _verify(new_session).broken is None


def test_an_event_committed_unsealed_is_sealed_by_the_next_seal(session, new_session, web_app):
    # As if its process died between the commit and the seal: inserted, never sealed.
    with web_app.state.engine.begin() as conn:
        conn.execute(
            insert(AuditEvent).values(
                at=utcnow(), actor="cli", action="x", object_type="y", object_id="1", detail=""
            )
        )
    assert _chain(new_session) == [(None, None)]
    _record(session)  # the next commit's seal takes the orphan too, first
    assert [seq for seq, _ in _chain(new_session)] == [1, 2]


def test_the_database_refuses_to_change_or_delete_an_event(session, web_app):
    event = _record(session, reason="wrong")
    engine = web_app.state.engine
    for statement in (
        "UPDATE audit_event SET detail = '{}' WHERE id = :id",
        "UPDATE audit_event SET actor = 'user:2' WHERE id = :id",
        "UPDATE audit_event SET seq = 99 WHERE id = :id",
        "UPDATE audit_event SET mac = NULL, seq = NULL WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="audit events"), engine.begin() as conn:
            conn.execute(text(statement), {"id": event.id})
    # A forged anchor does not let a recent event go either (younger than 180 days).
    with pytest.raises(DBAPIError, match="audit events"), engine.begin() as conn:
        conn.execute(
            insert(AuditAnchor).values(
                seq=10**6, mac="0" * 64, pruned_before=utcnow(), events=1, anchor_mac="0" * 64
            )
        )
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})
    assert session.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1


def test_an_unsealed_event_cannot_be_changed_before_its_seal(web_app, new_session):
    engine = web_app.state.engine
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEvent).values(
                at=utcnow(), actor="cli", action="x", object_type="y", object_id="1", detail=""
            )
        )
    with pytest.raises(DBAPIError, match="audit events"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET action = 'other'"))
    with pytest.raises(DBAPIError, match="audit events"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))


def test_verify_names_the_first_event_changed_with_the_triggers_off(session, settings, web_app):
    events = [_record(session, n=n) for n in range(4)]
    assert run_cli(settings, ["audit", "verify"]).exit_code == 0
    with triggers_off(web_app.state.engine) as conn:
        conn.execute(
            text("UPDATE audit_event SET detail = :d WHERE id = :id"),
            {"d": '{"n": 9}', "id": events[2].id},
        )
    result = run_cli(settings, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {events[2].id} (sequence 3)" in result.output
    assert "changed after it was sealed" in result.output


def test_verify_finds_a_deleted_event_and_a_resealed_one(session, settings, web_app):
    events = [_record(session, n=n) for n in range(4)]
    with triggers_off(web_app.state.engine) as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    result = run_cli(settings, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {events[2].id} (sequence 3)" in result.output and "missing" in result.output
    # Renumbering the rest to close the gap does not help without the key.
    with triggers_off(web_app.state.engine) as conn:
        for seq in (3, 4):
            conn.execute(
                text("UPDATE audit_event SET seq = :to WHERE seq = :seq"),
                {"to": seq - 1, "seq": seq},
            )
    result = run_cli(settings, ["audit", "verify"])
    assert result.exit_code == 1 and f"event {events[2].id} (sequence 2)" in result.output


def test_prune_removes_old_events_and_the_rest_still_verifies(
    session, settings, new_session, web_app
):
    old = utcnow() - timedelta(days=settings.audit_retention_days + 10)
    for n in range(3):
        _record(session, n=n, at=old + timedelta(minutes=n))
    kept = _record(session, n=3)
    result = run_cli(settings, ["audit", "prune"])
    assert result.exit_code == 0, result.output
    assert "3 audit events" in result.output
    with new_session() as s:
        left = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        assert [(e.id, e.seq) for e in left][0] == (kept.id, 4)
        [pruned] = [e for e in left if e.action == "audit.prune"]
        assert pruned.actor == "cli" and '"events": 3' in pruned.detail
        [anchor] = s.exec(select(AuditAnchor)).all()
        assert anchor.seq == 3 and anchor.events == 3
    verified = run_cli(settings, ["audit", "verify"])
    assert verified.exit_code == 0 and "2 events checked" in verified.output
    # Nothing more is old enough: a second prune removes nothing.
    assert "0 audit events" in run_cli(settings, ["audit", "prune"]).output
    # The anchor itself can be neither changed nor removed.
    for statement in ("UPDATE audit_anchor SET seq = 1", "DELETE FROM audit_anchor"):
        with pytest.raises(DBAPIError, match="anchor"), web_app.state.engine.begin() as conn:
            conn.execute(text(statement))


def test_a_forged_anchor_is_caught(session, settings, web_app):
    old = utcnow() - timedelta(days=400)
    for n in range(3):
        _record(session, n=n, at=old)
    _record(session)
    with triggers_off(web_app.state.engine) as conn:
        # Someone removes two old events and writes an anchor for them without the key.
        conn.execute(text("DELETE FROM audit_event WHERE seq <= 2"))
        conn.execute(
            insert(AuditAnchor).values(
                seq=2, mac="f" * 64, pruned_before=utcnow(), events=2, anchor_mac="f" * 64
            )
        )
    result = run_cli(settings, ["audit", "verify"])
    assert result.exit_code == 1 and "the anchor (sequence 2)" in result.output


def test_concurrent_writers_make_one_chain(web_app, new_session):
    """Two writers (as two app instances would) committing events at once: every event sealed
    once, no sequence number twice or skipped, and the chain verifies."""
    per_writer = 40
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(name: str) -> None:
        try:
            start.wait()
            with new_session() as s:
                for n in range(per_writer):
                    audit.record(s, name, "course.update", "course", n)
                    s.commit()
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(f"user:{i}",)) for i in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    sealed = _chain(new_session)  # sealed by the writers' own commits, before any verify
    assert len(sealed) == 2 * per_writer
    assert sorted(seq for seq, _ in sealed if seq) == list(range(1, 2 * per_writer + 1))
    report = _verify(new_session)
    assert report.broken is None and report.events == 2 * per_writer
