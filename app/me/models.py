"""A trainee's own access (PIPL): one-time codes, sessions, share copies, deletion requests.

Nothing here holds an ID number, a mobile or a code in the clear: codes and tokens are stored
as keyed hashes or digests, so a leaked table opens nothing.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import IdNumber, Mobile, PlainText

CODE_DIGITS = 6
PURPOSE_LENGTH = 60  # a line on the stamped PDF
SHARE_DAYS = 180  # the longest a share copy verifies, as 学信网's reports at most


class TraineeCode(SQLModel, table=True):
    """A one-time code sent to the mobile of one of the trainee's enrollments. The browser that
    asked holds a random challenge (a cookie); the code counts only with it."""

    __tablename__ = "trainee_code"

    id: int | None = Field(default=None, primary_key=True)
    challenge_hash: str = Field(max_length=64, unique=True, index=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    # The mobile the code went to (keyed hash): the session it opens knows which one it was.
    mobile_hash: str = Field(max_length=64)
    code_hash: str = Field(max_length=64)
    tries: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class TraineeSession(SQLModel, table=True):
    """A trainee signed in: never a staff session (its own cookie, its own table)."""

    __tablename__ = "trainee_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    mobile_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class CertificateShare(SQLModel, table=True):
    """A share copy of a certificate: a link for one purpose that verifies until a date."""

    __tablename__ = "certificate_share"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    purpose: str = Field(max_length=PURPOSE_LENGTH)
    valid_until: date  # the last day (China's) it verifies
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class DeletionRequest(SQLModel, table=True):
    """A trainee's request to erase their data; a system administrator confirms or refuses."""

    __tablename__ = "deletion_request"

    id: int | None = Field(default=None, primary_key=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    state: str = Field(default="pending", max_length=10)  # pending | done | refused
    requested_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=40)  # as the audit log names people
    reason: str | None = Field(default=None, max_length=200)  # why it was refused


class SignIn(SQLModel):
    id_number: IdNumber
    mobile: Mobile


class CodeEntry(SQLModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class ShareCreate(SQLModel):
    purpose: Annotated[PlainText, StringConstraints(min_length=2, max_length=PURPOSE_LENGTH)]
    valid_until: date


class Refusal(SQLModel):
    reason: Annotated[PlainText, StringConstraints(min_length=2, max_length=200)]
