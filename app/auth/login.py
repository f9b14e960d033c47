"""The end of a login, shared by its two steps: the password (auth.router) and, for an account
with a second factor, the code (auth.second_factor).

Between the two steps the browser holds a short-lived signed note naming the account: it is
not a session (nothing in user_session, load_user never reads it), so a password alone opens no
page at all. The note is bound to the password hash, so a password changed meanwhile voids it.
"""

import hashlib

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from app.auth import sessions, totp
from app.auth.deps import SESSION_COOKIE
from app.auth.models import ADMIN, AUDITOR, SECURITY, User
from app.i18n import N_
from app.web import app_keys, delete_cookie, redirect, rotate_csrf, safe_path, set_cookie

PENDING_COOKIE = "dandelion_login"
PENDING_SECONDS = 300
LOGGED_IN = N_("You are logged in")


def home_of(user: User) -> str:
    return {ADMIN: "/admin", SECURITY: "/security/accounts", AUDITOR: "/audit"}.get(
        user.role, "/staff"
    )


def limits(request: Request) -> sessions.Limits:
    return sessions.Limits.of(request.app.state.settings)


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_keys(request).csrf_key.hex(), salt="dandelion/login-step")


def _bound(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def ask_for_code(request: Request, user: User, next_path: str) -> Response:
    """The password was right: on to the second step."""
    response = redirect(request, "/login/code")
    note = _signer(request).dumps({"user": user.id, "bound": _bound(user), "next": next_path})
    set_cookie(response, PENDING_COOKIE, note, max_age=PENDING_SECONDS)
    return response


def pending(request: Request, session: Session) -> tuple[User, str] | None:
    """The account whose password this browser gave in the last few minutes, and where to go."""
    note = request.cookies.get(PENDING_COOKIE)
    if not note:
        return None
    try:
        data = _signer(request).loads(note, max_age=PENDING_SECONDS)
    except BadSignature:
        return None
    user = session.get(User, data.get("user"))
    if user is None or not user.is_active or data.get("bound") != _bound(user):
        return None
    return user, safe_path(str(data.get("next") or ""))


def finish(request: Request, session: Session, user: User, next_path: str) -> Response:
    """Start the user's session under a new id and send them on; commits."""
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:  # logging in again (perhaps as someone else) ends the login this browser had
        sessions.end(session, earlier)
    client = request.client.host if request.client else ""
    token = sessions.start(
        session,
        user,
        limits(request),
        user_agent=request.headers.get("user-agent", ""),
        address=client,
    )
    session.commit()
    if user.must_change_password:  # a temporary password: a new one before anything else
        response = redirect(request, "/account", flash=N_("Choose a new password to go on"))
    elif totp.missing(session, user):
        response = redirect(
            request, "/account/second-factor", flash=N_("Set up your second factor to go on")
        )
    else:
        response = redirect(request, next_path or home_of(user), flash=LOGGED_IN)
    set_cookie(response, SESSION_COOKIE, token, max_age=limits(request).cookie_seconds)
    delete_cookie(response, PENDING_COOKIE)
    rotate_csrf(request)  # tokens of the anonymous pages before login no longer fit
    return response


def keep_going(request: Request, response: Response, token: str) -> None:
    """This browser's login goes on under a new session id (after a privilege change)."""
    set_cookie(response, SESSION_COOKIE, token, max_age=limits(request).cookie_seconds)
    switch_to(request, token)
    rotate_csrf(request)


def switch_to(request: Request, token: str) -> None:
    """The rest of this request speaks for the new session: a page rendered now (recovery codes
    shown once) carries form tokens bound to it, as the browser's next post will be."""
    request.cookies[SESSION_COOKIE] = token
