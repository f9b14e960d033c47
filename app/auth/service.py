import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.models import ApiToken, User, UserSession
from app.db import id_of, utcnow
from app.errors import Conflict, Invalid
from app.i18n import N_
from app.security import token_digest
from app.universities.models import University

password_hash = PasswordHash.recommended()  # Argon2id
# Verifying against a dummy hash when the email is unknown keeps the response time the same.
_DUMMY_HASH = password_hash.hash("dandelion-timing-equaliser")
# How stale ApiToken.last_used_at may be (see _note_use).
TOKEN_USE_PRECISION = timedelta(minutes=1)


def get_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    university_id: int | None = None,
    actor: str,
) -> User:
    if len(password) < 10:
        raise Invalid([("password", N_("Use at least 10 characters"))])
    if get_by_email(session, email):
        raise Conflict(N_("An account with this email already exists"), field="email")
    if role == "staff" and (
        university_id is None or session.get(University, university_id) is None
    ):
        raise Invalid([("university_id", N_("Choose a university"))])
    user = User(
        email=email.strip().lower(),
        password_hash=password_hash.hash(password),
        role=role,
        university_id=university_id if role == "staff" else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = get_by_email(session, email)
    if user is None or not user.is_active:
        password_hash.verify(password, _DUMMY_HASH)
        return None
    if not password_hash.verify(password, user.password_hash):
        return None
    return user


def start_session(session: Session, user: User, days: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_digest(token),
            user_id=id_of(user),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, user.actor, "user.login", "user", user.id)
    return token


def user_for_session(session: Session, token: str) -> User | None:
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == token_digest(token))
    ).first()
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user and user.is_active else None


def end_session(session: Session, token: str) -> None:
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == token_digest(token))
    ).first()
    if row is not None:
        session.delete(row)


def create_token(
    session: Session, *, name: str, role: str, university_id: int | None = None
) -> tuple[ApiToken, str]:
    secret = "dl_" + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=token_digest(secret), name=name, role=role, university_id=university_id
    )
    session.add(token)
    session.flush()
    return token, secret


def token_for_secret(session: Session, secret: str) -> ApiToken | None:
    token = session.exec(
        select(ApiToken).where(ApiToken.token_hash == token_digest(secret))
    ).first()
    if token is None or token.revoked_at is not None:
        return None
    _note_use(session, token)
    return token


def _note_use(session: Session, token: ApiToken) -> None:
    """Keep last_used_at, which tells a token still in use from a forgotten one, to the minute.

    Writing it on every call would make every read-only API call a write: on SQLite each one
    waits for the single writer's lock, so a script calling in a loop would hold up everyone
    else; on PostgreSQL each leaves a dead row version for vacuum. A minute is precise enough
    for deciding whether a token can be revoked."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_USE_PRECISION:
        return
    # A transaction of its own: a read-only call never commits, and a refused one rolls back,
    # yet both used the token. (Only a lookup has run on the request's session by now.)
    stale = or_(
        col(ApiToken.last_used_at).is_(None), col(ApiToken.last_used_at) < now - TOKEN_USE_PRECISION
    )
    with session.get_bind().engine.begin() as connection:
        connection.execute(
            update(ApiToken).where(col(ApiToken.id) == token.id, stale).values(last_used_at=now)
        )
    set_committed_value(token, "last_used_at", now)


def list_accounts(session: Session) -> list[tuple[User, University | None]]:
    """Every account with its university, administrators first."""
    return list(
        session.exec(
            select(User, University)
            .outerjoin(University, col(User.university_id) == University.id)
            .order_by(User.role, User.email)
        )
    )
