"""An account's life after it is made: password resets and changes, deactivation."""

from sqlmodel import Session, col, func, select

from app.audit import service as audit
from app.auth import passwords, service, sessions
from app.auth.models import AUDITOR, SECURITY, ApiToken, User, UserSession
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import N_
from app.universities.models import University


def get(session: Session, user_id: int) -> tuple[User, University | None]:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such account"))
    university = session.get(University, user.university_id) if user.university_id else None
    return user, university


def _not_yourself(user: User, actor: User, message: str) -> None:
    # An administrator never locks themselves out; their own password has its own page.
    if user.id == actor.id:
        raise Conflict(message)


def _not_another_duty(user: User) -> None:
    # 三员: the administrator who changes accounts may not shut out (or take over) the security
    # administrator and the auditor who watch that work; theirs are kept on the command line.
    if user.role in (SECURITY, AUDITOR):
        raise Forbidden(N_("This account is changed on the command line only (separate duties)"))


def reset_password(session: Session, user: User, *, password: str, actor: User) -> int:
    """A temporary password the user must replace at their next login. Whoever may have known
    the old one is shut out: every session of the account ends and the API tokens it made are
    revoked. Returns how many sessions ended."""
    _not_yourself(user, actor, N_("Change your own password on your account page"))
    _not_another_duty(user)
    wrong = passwords.problem(password, user.email)
    if wrong:
        raise Invalid([("password", wrong)], params=passwords.params())
    user.password_hash = service.password_hash.hash(password)
    user.must_change_password = True
    session.add(user)
    ended = sessions.end_all(session, user)
    tokens = service.revoke_tokens_of(session, user)
    audit.record(
        session,
        actor.actor,
        "user.password_reset",
        "user",
        user.id,
        sessions=ended,
        tokens=tokens,
    )
    return ended


def change_password(
    session: Session,
    user: User,
    *,
    current: str,
    new: str,
    again: str,
    token: str | None,
    limits: sessions.Limits,
) -> str:
    """The user's own new password. Every other login of theirs ends, and this one gets a new
    session id (a copy of the old cookie is worth nothing): the new cookie's token is returned."""
    if not service.password_hash.verify(current, user.password_hash):
        raise Invalid([("current_password", N_("This is not your current password"))])
    if new != again:
        raise Invalid([("new_password_again", N_("The two new passwords are not the same"))])
    if new == current:
        raise Invalid([("new_password", N_("Choose a password other than the current one"))])
    wrong = passwords.problem(new, user.email)
    if wrong:
        raise Invalid([("new_password", wrong)], params=passwords.params())
    user.password_hash = service.password_hash.hash(new)
    forced = user.must_change_password
    user.must_change_password = False
    session.add(user)
    ended = session.exec(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    ).one()
    new_token = sessions.rotate(session, user, token, limits)
    audit.record(
        session,
        user.actor,
        "user.password_change",
        "user",
        user.id,
        after_reset=forced,
        other_sessions=max(ended - 1, 0),
    )
    return new_token


def deactivate(session: Session, user: User, *, actor: User) -> None:
    """The account can no longer log in, and what it holds stops at once: its sessions are
    deleted and the API tokens it made are revoked (see ApiToken for why they are its own)."""
    _not_yourself(user, actor, N_("You cannot deactivate your own account"))
    _not_another_duty(user)
    if not user.is_active:
        raise Conflict(N_("This account is already deactivated"))
    user.is_active = False
    session.add(user)
    ended = sessions.end_all(session, user)
    tokens = service.revoke_tokens_of(session, user)
    audit.record(
        session, actor.actor, "user.deactivate", "user", user.id, sessions=ended, tokens=tokens
    )


def reactivate(session: Session, user: User, *, actor: User) -> None:
    """The account can log in again with its password; its old tokens stay revoked."""
    _not_another_duty(user)
    if user.is_active:
        raise Conflict(N_("This account is active"))
    user.is_active = True
    session.add(user)
    audit.record(session, actor.actor, "user.reactivate", "user", user.id)


def tokens_made_by(session: Session, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.created_by_id == user.id)
    return list(session.exec(query.order_by(col(ApiToken.id).desc())))
