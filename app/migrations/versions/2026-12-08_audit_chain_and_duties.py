"""audit: events chained by HMAC, separate duties (system, security, audit)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:00:00

Events already recorded stay unsealed here (a migration has no key): the first seal after it
(the first commit that records an event, or `dandelion audit verify`) chains them in id order.
The triggers refuse a sealed event's change and any deletion an anchor (a prune's) does not
cover or of an event younger than 180 days. A later migration that rebuilds audit_event or
audit_anchor in batch mode (copy, drop, rename) on SQLite drops their triggers with the old
table: it must create them again (tests/audit fails if they are gone).
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CONTENT = ("id", "at", "actor", "action", "object_type", "object_id", "detail")
SQLITE = [
    f"""CREATE TRIGGER audit_event_sealed BEFORE UPDATE ON audit_event
    WHEN OLD.seq IS NOT NULL OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT)}
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END""",
    """CREATE TRIGGER audit_event_kept BEFORE DELETE ON audit_event
    WHEN OLD.seq IS NULL
        OR OLD.seq > (SELECT coalesce(max(seq), 0) FROM audit_anchor)
        OR OLD.at > datetime('now', '-180 days')
    BEGIN SELECT RAISE(ABORT, 'audit events are removed only by dandelion audit prune'); END""",
    """CREATE TRIGGER audit_anchor_kept BEFORE UPDATE ON audit_anchor
    BEGIN SELECT RAISE(ABORT, 'audit anchors cannot be changed'); END""",
    """CREATE TRIGGER audit_anchor_kept_delete BEFORE DELETE ON audit_anchor
    BEGIN SELECT RAISE(ABORT, 'audit anchors cannot be removed'); END""",
]
POSTGRESQL = [
    f"""CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.seq IS NULL
                OR OLD.seq > (SELECT coalesce(max(seq), 0) FROM audit_anchor)
                OR OLD.at > now() - interval '180 days' THEN
                RAISE EXCEPTION 'audit events are removed only by dandelion audit prune';
            END IF;
            RETURN OLD;
        END IF;
        IF OLD.seq IS NOT NULL
            OR {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in CONTENT)} THEN
            RAISE EXCEPTION 'audit events cannot be changed';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard()""",
    """CREATE FUNCTION audit_anchor_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit anchors cannot be changed or removed';
    END $$""",
    """CREATE TRIGGER audit_anchor_guard BEFORE UPDATE OR DELETE ON audit_anchor
    FOR EACH ROW EXECUTE FUNCTION audit_anchor_guard()""",
]


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(op.f("ix_audit_event_seq"), ["seq"], unique=True)
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pruned_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("anchor_mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
    )
    with op.batch_alter_table("audit_anchor", schema=None) as batch_op:
        batch_op.create_index(op.f("ix_audit_anchor_seq"), ["seq"], unique=False)
    for statement in POSTGRESQL if _pg() else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if _pg():
        op.execute("DROP TRIGGER audit_anchor_guard ON audit_anchor")
        op.execute("DROP TRIGGER audit_event_guard ON audit_event")
        op.execute("DROP FUNCTION audit_anchor_guard()")
        op.execute("DROP FUNCTION audit_event_guard()")
    else:
        for trigger in (
            "audit_anchor_kept_delete",
            "audit_anchor_kept",
            "audit_event_kept",
            "audit_event_sealed",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
    with op.batch_alter_table("audit_anchor", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_audit_anchor_seq"))
    op.drop_table("audit_anchor")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_audit_event_seq"))
        batch_op.drop_column("mac")
        batch_op.drop_column("seq")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
