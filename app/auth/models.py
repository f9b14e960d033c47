from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import Email, PlainText, RowId

# A password as typed: never stripped (spaces are characters too), at least 10 characters.
MIN_PASSWORD = 10
NewPassword = Annotated[str, StringConstraints(min_length=MIN_PASSWORD, max_length=200)]


# Roles (等保 2.0's 三员, separate duties): the system administrator runs the activity (accounts
# of universities' staff, universities, goals, reports); the security administrator sets the
# security policy (second factors, lock-outs, sessions); the auditor reads the audit log and
# nothing else. Staff belong to one university.
ADMIN, SECURITY, AUDITOR, STAFF = "admin", "security", "auditor", "staff"
PRIVILEGED = frozenset({ADMIN, SECURITY, AUDITOR})  # the alliance's own accounts: TOTP required


class User(SQLModel, table=True):
    """An administrator of the alliance, or a member of one university's staff."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=10)  # ADMIN | SECURITY | AUDITOR | STAFF
    university_id: int | None = Field(default=None, foreign_key="university.id", index=True)
    is_active: bool = True
    # Set when an administrator resets the password: after logging in with the temporary one,
    # the user can only choose a new one (auth.deps.load_user) until they have.
    must_change_password: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # The second factor (app.auth.totp): the TOTP secret, encrypted like other secrets at rest
    # (Keys.encrypt), the time it was confirmed, and the last 30-second step whose code was
    # accepted, so that a code seen over someone's shoulder cannot be used again.
    totp_secret: str | None = Field(default=None, max_length=255)
    totp_enabled_at: datetime | None = None
    totp_last_step: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_privileged(self) -> bool:
        return self.role in PRIVILEGED

    @property
    def actor(self) -> str:
        """Who did it, as the audit log names people (API tokens are "token:<id>")."""
        return f"user:{self.id}"


class UserSession(SQLModel, table=True):
    """A login, stored server-side: the cookie holds only a random token whose digest is here."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The absolute end (settings.session_hours after the login); the idle end is last_seen_at
    # plus settings.session_idle_minutes, last_seen_at being kept to the minute (app.auth.sessions).
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    # What the owner's session list shows to tell their logins apart.
    user_agent: str = Field(default="", max_length=300)
    address: str = Field(default="", max_length=45)


class RecoveryCode(SQLModel, table=True):
    """One of the ten single-use codes that stand in for a lost authenticator; only its digest
    is kept (app.auth.totp)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = None


class LoginLock(SQLModel, table=True):
    """Failed passwords for one account from one address, and the lock they led to
    (app.auth.lockout explains why per address). Both are keyed hashes: the table never holds an
    email or an address."""

    __tablename__ = "login_lock"
    __table_args__ = (UniqueConstraint("account_hash", "source_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    account_hash: str = Field(max_length=64, index=True)
    source_hash: str = Field(max_length=64)
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None


class ApiToken(SQLModel, table=True):
    """A key for the API. It acts for its scope (the alliance, or one university), but a token
    made in the browser is also its maker's credential (created_by_id): like a personal access
    token it was handed to that person, who may have copied it anywhere, so it dies with their
    account. Deactivating the account revokes their tokens for good (reactivating does not bring
    them back: a new token is one click), and a token whose maker is inactive is refused even
    before that. Their colleagues' tokens for the same university are not theirs and live on.
    Tokens made with `dandelion token create` belong to the installation's operator (no user)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=10)  # admin | university
    university_id: int | None = Field(default=None, foreign_key="university.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ThrottleEvent(SQLModel, table=True):
    """A failed or counted attempt, kept in the database so every app instance sees the same limits."""

    __tablename__ = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_lookup", "scope", "key_hash", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=30)
    key_hash: str = Field(max_length=64)
    # The client address, hashed: limits that guard a victim count distinct addresses.
    source_hash: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow)


class StaffCreate(SQLModel):
    """The administrator's form for a university staff account."""

    email: Email
    password: NewPassword
    university_id: RowId


class PasswordReset(SQLModel):
    """An administrator's temporary password for someone's account."""

    password: NewPassword


class PasswordChange(SQLModel):
    """A user's own new password: the current one first, the new one twice."""

    current_password: Annotated[str, StringConstraints(max_length=200)]
    new_password: NewPassword
    new_password_again: Annotated[str, StringConstraints(max_length=200)]


class TokenCreate(SQLModel):
    """A new API token: what it is for and, from an administrator, the university it acts for
    (none: the alliance's, an administrator's token). Staff's tokens act for their university."""

    name: Annotated[PlainText, StringConstraints(min_length=1, max_length=100)]
    university_id: RowId | None = None
