"""The second factor in the browser: the login's second step, and each user's own enrolment,
recovery codes and (for staff who chose it) turning it off."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.audit import service as audit
from app.auth import login as login_flow
from app.auth import sessions, throttle, totp
from app.auth.deps import SESSION_COOKIE, require_user
from app.auth.models import User
from app.auth.throttle import Limit
from app.db import SessionDep
from app.errors import AppError, Invalid
from app.i18n import N_, gettext
from app.web import FormDep, app_keys, redirect, render

router = APIRouter()
LoggedIn = Annotated[User, Depends(require_user)]
# A secret shown for enrolment, waiting for its first code: kept in the page itself (signed),
# never stored before it is confirmed.
SETUP_SECONDS = 15 * 60
START_AGAIN = N_("Your login took too long or was interrupted: log in again")


def _setup_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_keys(request).csrf_key.hex(), salt="dandelion/totp-setup")


@router.get("/login/code", name="auth:login_code")
def code_page(request: Request, session: SessionDep):
    if login_flow.pending(request, session) is None:
        return redirect(request, "/login", flash=START_AGAIN)
    return render(request, "auth/login_code.html", {"errors": {}})


@router.post("/login/code", name="auth:login_code_post")
def code_step(request: Request, session: SessionDep, form: FormDep):
    found = login_flow.pending(request, session)
    if found is None:
        return redirect(request, "/login", flash=START_AGAIN)
    user, next_path = found
    ip = throttle.client_address(request)
    # Only someone with the password gets here, so the account's own limit (over every
    # address) may be strict: it bounds the guesses at six digits, and whoever could use it
    # to hold the real user back already knows the password.
    throttle.attempt(
        session,
        [("login-code-ip", f"{user.id}|{ip}", 10), Limit("login-code", str(user.id), 10)],
        source=ip,
    )
    if not totp.check_code_or_recovery(session, user, str(form.get("code") or "")):
        audit.record(session, "anonymous", "user.login_failed", "user", user.id, step="code")
        session.commit()
        errors = {"code": gettext(totp.WRONG_CODE)}
        return render(request, "auth/login_code.html", {"errors": errors}, status_code=400)
    return login_flow.finish(request, session, user, next_path)


def _setup_page(
    request: Request, session, user: User, *, errors=None, status_code=200, secret=None
):
    context: dict = {
        "account": user,
        "errors": errors or {},
        "required": totp.required(session, user),
    }
    if user.totp_enabled_at is None:
        # After a mistyped first code the same key again: the app has scanned it already.
        secret = secret or totp.new_secret()
        uri = totp.provisioning_uri(user, secret)
        context |= {
            "secret": secret,
            "qr": totp.qr_svg(uri, gettext("QR code for your authenticator app")),
            "setup": _setup_signer(request).dumps({"user": user.id, "secret": secret}),
        }
    else:
        context["codes_left"] = totp.recovery_codes_left(session, user)
    return render(request, "auth/second_factor.html", context, status_code=status_code)


@router.get("/account/second-factor", name="auth:second_factor")
def second_factor_page(request: Request, session: SessionDep, user: LoggedIn):
    return _setup_page(request, session, user)


def _codes_page(request: Request, codes: list[str], status_code: int = 200) -> Response:
    return render(request, "auth/recovery_codes.html", {"codes": codes}, status_code=status_code)


def _rotated(request: Request, session, user: User) -> str:
    token = request.cookies.get(SESSION_COOKIE)
    return sessions.rotate(session, user, token, login_flow.limits(request))


@router.post("/account/second-factor", name="auth:enrol")
def enrol(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    try:
        data = _setup_signer(request).loads(str(form.get("setup") or ""), max_age=SETUP_SECONDS)
    except BadSignature:
        data = {}
    if data.get("user") != user.id:
        return redirect(
            request, "/account/second-factor", flash=N_("That QR code has expired: scan this one")
        )
    throttle.attempt(session, [("totp-enrol", user.actor, 10)])
    try:
        codes = totp.enrol(session, user, secret=data["secret"], code=str(form.get("code") or ""))
    except Invalid as exc:
        session.rollback()
        return _setup_page(
            request,
            session,
            user,
            errors=exc.field_messages(),
            status_code=422,
            secret=data["secret"],
        )
    except AppError as exc:
        session.rollback()
        errors = {"code": gettext(exc.message, **exc.params)}
        return _setup_page(request, session, user, errors=errors, status_code=exc.status)
    token = _rotated(request, session, user)  # a privilege change: a new session id
    session.commit()
    # The codes are shown on this one answer and never again: only their digests are kept.
    login_flow.switch_to(request, token)
    response = _codes_page(request, codes, status_code=201)
    login_flow.keep_going(request, response, token)
    return response


def _with_code(session, user: User, form) -> None:
    if not totp.check_code(session, user, str(form.get("code") or "")):
        raise Invalid([("code", totp.WRONG_CODE)])


@router.post("/account/second-factor/recovery-codes", name="auth:new_recovery_codes")
def new_recovery_codes(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    throttle.attempt(session, [("totp-confirm", user.actor, 10)])
    try:
        _with_code(session, user, form)
    except Invalid as exc:
        session.rollback()
        return _setup_page(request, session, user, errors=exc.field_messages(), status_code=422)
    codes = totp.new_recovery_codes(session, user)
    audit.record(session, user.actor, "user.recovery_codes_new", "user", user.id)
    session.commit()
    return _codes_page(request, codes, status_code=201)


@router.post("/account/second-factor/off", name="auth:second_factor_off")
def turn_off(request: Request, session: SessionDep, user: LoggedIn, form: FormDep):
    throttle.attempt(session, [("totp-confirm", user.actor, 10)])
    try:
        totp.turn_off(session, user, code=str(form.get("code") or ""))
    except Invalid as exc:
        session.rollback()
        return _setup_page(request, session, user, errors=exc.field_messages(), status_code=422)
    except AppError as exc:
        session.rollback()
        errors = {"code": gettext(exc.message, **exc.params)}
        return _setup_page(request, session, user, errors=errors, status_code=exc.status)
    token = _rotated(request, session, user)
    session.commit()
    response = redirect(
        request, "/account", flash=N_("Your second factor is off; your other logins have ended")
    )
    login_flow.keep_going(request, response, token)
    return response
