from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import IdNumber, Mobile


class Certificate(SQLModel, table=True):
    """An issued certificate: what was printed is copied here, so it never changes afterwards."""

    # One valid certificate per completion, even when "issue" is pressed twice at once.
    __table_args__ = (
        Index(
            "uq_certificate_issued_completion",
            "completion_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
        # The administrators' table counts each university's valid certificates from this
        # index alone (8 ms at 100,000 certificates on SQLite, against 160 ms reading rows).
        Index("ix_certificate_university_id_status", "university_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=20, unique=True, index=True)
    completion_id: int = Field(foreign_key="completion.id", index=True)
    university_id: int = Field(foreign_key="university.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    status: str = Field(default="issued", max_length=10)  # issued | revoked
    holder_name: str = Field(max_length=50)
    course_code: str = Field(max_length=30)
    course_title: str = Field(max_length=120)
    university_name: str = Field(max_length=100)
    hours: Decimal = Field(max_digits=6, decimal_places=1)
    completed_on: date
    issued_on: date
    issued_at: datetime = Field(default_factory=utcnow)
    key_id: str = Field(max_length=16)
    signature: str = Field(max_length=100)
    pdf_path: str = Field(max_length=255)
    pdf_sha256: str = Field(max_length=64)
    revoked_at: datetime | None = None
    revoke_reason: str | None = Field(default=None, max_length=200)
    revoked_by: str | None = Field(default=None, max_length=40)  # as the audit log names people
    supersedes_id: int | None = Field(default=None, foreign_key="certificate.id")


class SigningKey(SQLModel, table=True):
    """A public key certificates are signed with, published by key id. Rows stay after a
    rotation (retired_at set), so certificates signed with an old key still verify."""

    __tablename__ = "signing_key"

    key_id: str = Field(primary_key=True, max_length=16)
    public_key: str = Field(max_length=64)  # raw Ed25519 key, URL-safe base64 without padding
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class CertificateLookup(SQLModel):
    """The public form with which trainees find their own certificates."""

    id_number: IdNumber
    mobile: Mobile
