from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import utcnow


class AuditEvent(SQLModel, table=True):
    """Who did what to which record; never holds an ID number or other personal data."""

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
