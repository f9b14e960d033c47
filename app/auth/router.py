from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.admin.router import shown_again
from app.auth import accounts, pages, service, throttle
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
    set_cookie,
    submit,
)

router = APIRouter(dependencies=[Depends(load_user)])
router.include_router(pages.router)
LOGGED_IN = N_("You are logged in")


def home_of(user: User) -> str:
    return "/admin" if user.is_admin else "/staff"


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
    user = service.authenticate(session, email, password)
    if user is None:
        return render(
            request,
            "auth/login.html",
            {
                "values": {"email": email},
                "next": safe_path(str(form.get("next") or "")),
                "error": gettext("Wrong email or password"),
            },
            status_code=400,
        )
    throttle.clear(session, "login-account-ip", f"{account}|{ip}")
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:  # logging in again (perhaps as someone else) ends the login this browser had
        service.end_session(session, earlier)
    days = request.app.state.settings.session_days
    token = service.start_session(session, user, days)
    session.commit()
    if user.must_change_password:  # a temporary password: a new one before anything else
        response = redirect(request, "/account", flash=N_("Choose a new password to go on"))
    else:
        response = redirect(
            request, safe_path(str(form.get("next") or "")) or home_of(user), flash=LOGGED_IN
        )
    set_cookie(response, SESSION_COOKIE, token, max_age=days * 86400)
    rotate_csrf(request)  # tokens of the anonymous pages before login no longer fit
    return response


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep, form: FormDep):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
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


def _account_page(request: Request, user: User, errors: dict, status_code: int = 200):
    return render(
        request, "auth/account.html", {"account": user, "errors": errors}, status_code=status_code
    )


@router.get("/account", name="auth:account")
def account(request: Request, user: LoggedIn):
    return _account_page(request, user, {})


@router.post("/account/password", name="auth:change_password")
def change_password(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    # A stolen session must not be a way to guess the password it lacks.
    throttle.attempt(session, [("password-change", user.actor, 10)])
    days = request.app.state.settings.session_days
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
                days=days,
            )
        ),
        # Nothing typed is shown again: every field is a password.
        again=lambda values, errors: _account_page(request, user, errors, 422),
        done=home_of(user),
        flash=N_("Your password is changed; your other logins have ended"),
    )
    if new_token:  # this browser's login goes on under a new session id
        set_cookie(response, SESSION_COOKIE, new_token[0], max_age=days * 86400)
        rotate_csrf(request)
    return response
