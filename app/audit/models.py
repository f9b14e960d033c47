from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import utcnow


class AuditEvent(SQLModel, table=True):
    """Who did what to which record; never holds an ID number or other personal data.

    Inserted unsealed (seq and mac empty) inside the transaction of what it records; the
    sealer (app/audit/chain.py) then gives it its place in the chain. Database triggers
    (migration 0018) refuse any change of a sealed event and any deletion but a prune's."""

    __tablename__ = "audit_event"
    # The audit page filters by who and by what, newest first.
    __table_args__ = (
        Index("ix_audit_event_actor_at", "actor", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=40)  # user:3, token:2, public, cli
    action: str = Field(max_length=40)
    object_type: str = Field(max_length=30)
    object_id: str = Field(max_length=40)
    detail: str = Field(default="", max_length=1000)
    # Its place in the chain (1, 2, 3 ... in commit order) and its HMAC over its content and the
    # previous event's mac. The unique index also finds the unsealed (seq IS NULL) quickly.
    seq: int | None = Field(default=None, unique=True, index=True)
    mac: str | None = Field(default=None, max_length=64)


class AuditAnchor(SQLModel, table=True):
    """Where the chain starts after `dandelion audit prune`: the last pruned event's place and
    mac, so the first event kept still verifies. Its own mac shows it was written with the key.
    A deleted event is refused by the trigger unless an anchor covers it."""

    __tablename__ = "audit_anchor"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    mac: str = Field(max_length=64)
    pruned_before: datetime
    events: int
    at: datetime = Field(default_factory=utcnow)
    anchor_mac: str = Field(max_length=64)
