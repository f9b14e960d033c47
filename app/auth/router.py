from fastapi import APIRouter, Depends, Request

from app.admin.router import shown_again
from app.auth import service, throttle
from app.auth.deps import SESSION_COOKIE, AdminUser, load_user
from app.auth.models import StaffCreate
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
    default = "/admin" if user.is_admin else "/staff"
    response = redirect(
        request, safe_path(str(form.get("next") or "")) or default, flash=N_("You are logged in")
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
