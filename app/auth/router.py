from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from app import clock
from app.admin.router import shown_again
from app.audit import service as audit
from app.auth import (
    accounts,
    lockout,
    pages,
    second_factor,
    security_pages,
    service,
    sessions,
    throttle,
    totp,
)
from app.auth import login as login_flow
from app.auth.deps import SESSION_COOKIE, AdminUser, load_user, require_user
from app.auth.models import PasswordChange, StaffCreate, User
from app.auth.throttle import Limit
from app.db import SessionDep
from app.i18n import N_, gettext
from app.web import (
    FormDep,
    delete_cookie,
    redirect,
    render,
    rotate_csrf,
    safe_path,
    submit,
)

SessionId = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(dependencies=[Depends(load_user)])
router.include_router(pages.router)
router.include_router(second_factor.router)
router.include_router(security_pages.router)
LOCKED = N_(
    "Too many wrong passwords: logging in to this account from your address is locked until "
    "%(until)s (China time)"
)


def _login_page(request: Request, form, email: str, error: str, status_code: int):
    return render(
        request,
        "auth/login.html",
        {
            "values": {"email": email},
            "next": safe_path(str(form.get("next") or "")),
            "error": error,
        },
        status_code=status_code,
    )


def _locked(request: Request, form, email: str, until) -> Response:
    shown = clock.in_china(until).strftime("%Y-%m-%d %H:%M")
    return _login_page(request, form, email, gettext(LOCKED, until=shown), 429)


@router.get("/login", name="auth:login")
def login_page(request: Request, next: str = ""):
    return render(request, "auth/login.html", {"values": {"email": ""}, "next": safe_path(next)})


@router.post("/login", name="auth:login_post")
def login(request: Request, session: SessionDep, form: FormDep):
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    ip = throttle.client_address(request)
    account = email.strip().lower()
    # Per account and address, so a stranger elsewhere cannot lock the real user out; per
    # account over all addresses it counts addresses (20 must try, never one), against
    # guessers with many.
    throttle.attempt(
        session,
        [
            ("login-account-ip", f"{account}|{ip}", 10),
            Limit("login-account", account, 20, by_address=True),
            ("login-ip", ip, 100),
        ],
        source=ip,
    )
    # A locked pair is refused before the password is checked: the right password from the
    # guesser's address is refused like a wrong one (app.auth.lockout says why per address).
    until = lockout.locked_until(session, account, ip)
    if until is not None:
        return _locked(request, form, email, until)
    user = service.authenticate(session, email, password)
    if user is None:
        known = service.get_by_email(session, email)
        until = lockout.fail(
            session, account, ip, lockout.Policy.of(request.app.state.settings), user=known
        )
        if known is not None:
            audit.record(
                session, "anonymous", "user.login_failed", "user", known.id, step="password"
            )
        session.commit()
        if until is not None:
            return _locked(request, form, email, until)
        return _login_page(request, form, email, gettext("Wrong email or password"), 400)
    throttle.clear(session, "login-account-ip", f"{account}|{ip}")
    lockout.succeeded(session, account, ip)
    next_path = safe_path(str(form.get("next") or ""))
    if user.totp_enabled_at is not None:
        session.commit()
        return login_flow.ask_for_code(request, user, next_path)
    return login_flow.finish(request, session, user, next_path)


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep, form: FormDep):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions.end(session, token)
        session.commit()
    response = redirect(request, "/", flash=N_("You are logged out"))
    delete_cookie(response, SESSION_COOKIE)
    rotate_csrf(request)
    return response


@router.post("/admin/users", name="auth:create_staff")
def create_staff(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    return submit(
        request,
        session,
        form,
        StaffCreate,
        lambda data: service.create_user(
            session,
            email=data.email,
            password=data.password,
            role="staff",
            university_id=data.university_id,
            actor=user.actor,
        ),
        again=shown_again(request, session, "staff_form"),
        done="/admin",
        flash=N_("Staff account created"),
    )


LoggedIn = Annotated[User, Depends(require_user)]


def _account_page(
    request: Request, session, user: User, errors: dict, status_code: int = 200
) -> Response:
    token = request.cookies.get(SESSION_COOKIE) or ""
    mine = sessions.of_token(session, token) if token else None
    context = {
        "account": user,
        "errors": errors,
        "sessions": sessions.list_of(session, user, login_flow.limits(request)),
        "this_session": mine.id if mine else None,
        "browser_of": sessions.browser_of,
        "second_factor_required": totp.required(session, user),
    }
    return render(request, "auth/account.html", context, status_code=status_code)


@router.get("/account", name="auth:account")
def account(request: Request, session: SessionDep, user: LoggedIn):
    return _account_page(request, session, user, {})


@router.post("/account/sessions/{session_id}/revoke", name="auth:revoke_session")
def revoke_session(
    request: Request, session: SessionDep, user: LoggedIn, session_id: SessionId, form: FormDep
):
    sessions.revoke(session, user, session_id)
    session.commit()
    return redirect(request, "/account", flash=N_("That session is logged out"))


@router.post("/account/sessions/revoke-others", name="auth:revoke_other_sessions")
def revoke_other_sessions(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    count = sessions.revoke_others(session, user, request.cookies.get(SESSION_COOKIE) or "")
    session.commit()
    return redirect(
        request, "/account", flash=N_("Logged out everywhere else (%(count)s)"), count=count
    )


@router.post("/account/password", name="auth:change_password")
def change_password(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    # A stolen session must not be a way to guess the password it lacks.
    throttle.attempt(session, [("password-change", user.actor, 10)])
    new_token: list[str] = []
    response = submit(
        request,
        session,
        form,
        PasswordChange,
        lambda data: new_token.append(
            accounts.change_password(
                session,
                user,
                current=data.current_password,
                new=data.new_password,
                again=data.new_password_again,
                token=request.cookies.get(SESSION_COOKIE),
                limits=login_flow.limits(request),
            )
        ),
        # Nothing typed is shown again: every field is a password.
        again=lambda values, errors: _account_page(request, session, user, errors, 422),
        done=login_flow.home_of(user),
        flash=N_("Your password is changed; your other logins have ended"),
    )
    if new_token:  # this browser's login goes on under a new session id
        login_flow.keep_going(request, response, new_token[0])
    return response
