from fastapi import APIRouter, Depends, Request

from app.auth import service
from app.auth.deps import SESSION_COOKIE, load_user
from app.config import get_settings
from app.db import SessionDep
from app.i18n import N_, gettext
from app.web import FormDep, redirect, render

router = APIRouter(dependencies=[Depends(load_user)])


@router.get("/login", name="auth:login")
def login_page(request: Request, next: str = ""):
    return render(request, "auth/login.html", {"values": {"email": ""}, "next": _safe_next(next)})


@router.post("/login", name="auth:login_post")
def login(request: Request, session: SessionDep, form: FormDep):
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    user = service.authenticate(session, email, password)
    if user is None:
        return render(request, "auth/login.html", {
            "values": {"email": email}, "next": _safe_next(str(form.get("next") or "")),
            "error": gettext("Wrong email or password"),
        }, status_code=400)
    token = service.start_session(session, user, get_settings().session_days)
    session.commit()
    default = "/admin" if user.is_admin else "/staff"
    response = redirect(_safe_next(str(form.get("next") or "")) or default,
                        flash=N_("You are logged in"))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=get_settings().public_url.startswith("https"),
                        max_age=get_settings().session_days * 86400)
    return response


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep, form: FormDep):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
        session.commit()
    response = redirect("/", flash=N_("You are logged out"))
    response.delete_cookie(SESSION_COOKIE)
    return response


def _safe_next(url: str) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    return url if url.startswith("/") and not url.startswith("//") else ""
