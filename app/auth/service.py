import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth import passwords
from app.auth.models import ApiToken, User
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
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
    wrong = passwords.problem(password, email)
    if wrong:
        raise Invalid([("password", wrong)], params=passwords.params())
    taken = Conflict(N_("An account with this email already exists"), field="email")
    if get_by_email(session, email):
        raise taken
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
    try:
        session.flush()
    except IntegrityError as exc:  # the same email, created a moment ago by someone else
        raise taken from exc
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


def revoke_tokens_of(session: Session, user: User) -> int:
    """Revoke every API token the user made (a browser-made token is its maker's credential):
    on deactivation, and on a password reset, since whoever knew the old password could have
    made some."""
    revoked = session.execute(
        update(ApiToken)
        .where(col(ApiToken.created_by_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(revoked.rowcount)  # type: ignore[attr-defined]


def create_token(
    session: Session,
    *,
    name: str,
    role: str,
    university_id: int | None = None,
    created_by: User | None = None,
    actor: str = "cli",
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is never stored: the caller shows it once."""
    secret = "dl_" + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=token_digest(secret),
        name=name,
        role=role,
        university_id=university_id,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session, actor, "token.create", "api_token", token.id, role=role, university=university_id
    )
    return token, secret


def token_for_secret(session: Session, secret: str) -> ApiToken | None:
    found = session.exec(
        select(ApiToken, User)
        .outerjoin(User, col(ApiToken.created_by_id) == User.id)
        .where(ApiToken.token_hash == token_digest(secret))
    ).first()
    if found is None:
        return None
    token, maker = found
    # A browser-made token dies with its maker's account (see ApiToken).
    if token.revoked_at is not None or (maker is not None and not maker.is_active):
        return None
    _note_use(session, token)
    return token


def visible_tokens(
    session: Session, viewer: User
) -> list[tuple[ApiToken, University | None, User | None]]:
    """The tokens a user may see and revoke, newest first, with their university and maker:
    an administrator every token, staff their own university's (colleagues' and the CLI's too,
    since they all act for it)."""
    maker = aliased(User)
    query = (
        select(ApiToken, University, maker)
        .outerjoin(University, col(ApiToken.university_id) == University.id)
        .outerjoin(maker, col(ApiToken.created_by_id) == maker.id)
        .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.id).desc())
    )
    if not viewer.is_admin:
        query = query.where(ApiToken.university_id == viewer.university_id)
    return list(session.exec(query))


def visible_token(session: Session, viewer: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or not (viewer.is_admin or token.university_id == viewer.university_id):
        raise NotFound(N_("No such token"))
    return token


def revoke_token(session: Session, token: ApiToken, *, actor: str) -> bool:
    """Revoke the token; False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.revoke", "api_token", token.id)
    return True


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
