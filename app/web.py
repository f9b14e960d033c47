"""Pages: the Jinja2 environment, render(), flash messages, CSRF and form helpers."""

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, pass_context
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session
from starlette.datastructures import FormData

from app import clock, i18n
from app.auth.deps import SESSION_COOKIE, load_user
from app.auth.models import User
from app.errors import Conflict, Forbidden, Invalid, TooLarge
from app.fields import has_control_chars
from app.i18n import N_, gettext
from app.security import Keys
from app.text import hours_text, without_pasted_invisibles

ROOT = Path(__file__).resolve().parent.parent
CSRF_COOKIE = "dandelion_csrf"
FLASH_COOKIE = "dandelion_flash"
LANG_COOKIE = "dandelion_lang"
# Set per request by the middleware: reached over HTTPS (directly or through a trusted proxy).
_https: ContextVar[bool] = ContextVar("https", default=False)

_env = Environment(
    loader=FileSystemLoader(ROOT / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
templates = Jinja2Templates(env=_env)
# jinja2.ext.i18n adds this method to the environment when it loads, which the types cannot see.
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=gettext, ngettext=i18n.ngettext, newstyle=True
)
templates.env.globals["current_language"] = i18n.current_language


@pass_context
def _url_for(context, name: str, /, **path_params) -> str:
    # A path, never an absolute URL: links must not carry whatever Host or scheme the request had.
    scope = context["request"].scope
    router = scope.get("router") or scope["app"]
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    # Starlette finds a name by trying every route in turn (an exception for each miss), which
    # took 40% of rendering a page with a few dozen links: each link is looked up once per app.
    known: dict = router.__dict__.setdefault("_paths_by_name", {})
    key = (root_path, name, tuple(sorted(path_params.items())))
    path = known.get(key)
    if path is None:
        if len(known) >= 4096:  # enrollment numbers and course codes are many: start afresh
            known.clear()
        path = known[key] = root_path.rstrip("/") + router.url_path_for(name, **path_params)
    return path


templates.env.globals["url_for"] = _url_for


templates.env.filters["hours"] = hours_text
# Times are stored in UTC; people in Shandong read China Standard Time.
templates.env.filters["local_time"] = lambda value: (
    clock.in_china(value).strftime("%Y-%m-%d %H:%M") if value else "—"
)


def app_keys(request: Request) -> Keys:
    """The keys of the app serving this request (create_app(settings) derives them)."""
    return request.app.state.keys


def _flash_signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(app_keys(request).flash_key.hex(), salt="flash")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    flash = _read_flash(request)
    ctx = {
        "user": getattr(request.state, "user", None),
        "flash": flash,
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if flash:
        delete_cookie(response, FLASH_COOKIE)
    return response


def redirect(request: Request, url: str, flash: str | None = None, **params) -> RedirectResponse:
    """POST, redirect, GET: the message rides in a signed cookie and is shown once."""
    # Only the path: a Location built from the Host header or the wrong scheme could lead away.
    parts = urlsplit(url)
    path = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    response = RedirectResponse(path, status_code=303)
    if flash:
        value = _flash_signer(request).dumps({"message": flash, "params": params})
        set_cookie(response, FLASH_COOKIE, value)
    return response


def set_https(value: bool) -> Token:
    return _https.set(value)


def reset_https(token: Token) -> None:
    _https.reset(token)


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """Every cookie of ours: never read by a script, never sent along by another site's post,
    and over HTTPS never sent over plain HTTP."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=_https.get()
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_https.get())


def safe_path(url: str) -> str:
    """Only a path on this site ("" otherwise): "//host" and "/\\host" would leave it."""
    ok = url.startswith("/") and not url.startswith(("//", "/\\"))
    return url if ok else ""


def _read_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = _flash_signer(request).loads(raw)
    except BadSignature:
        return None
    return gettext(data["message"], **data.get("params", {}))


def csrf_cookie_name() -> str:
    # __Host- over HTTPS: browsers then refuse the cookie from a sibling subdomain or plain HTTP.
    return f"__Host-{CSRF_COOKIE}" if _https.get() else CSRF_COOKIE


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The token a form carries: a keyed hash of the login session, or before login of the
    browser's CSRF cookie. A planted cookie, another session's token or one from before login
    does not fit (OWASP's signed double-submit, bound to the session when there is one)."""
    session_token = (
        request.cookies.get(SESSION_COOKIE) if getattr(request.state, "user", None) else None
    )
    # Without a secret (no middleware ran) the token is random, so it can never be accepted.
    secret = getattr(request.state, "csrf_secret", None) or new_csrf_secret()
    bound = f"session:{session_token}" if session_token else f"browser:{secret}"
    return hmac.new(app_keys(request).csrf_key, bound.encode(), hashlib.sha256).hexdigest()


def rotate_csrf(request: Request) -> None:
    """At login and logout the browser gets a new CSRF secret (the middleware sets the cookie)."""
    request.state.csrf_secret = new_csrf_secret()
    request.state.csrf_rotated = True


async def csrf_form(
    request: Request, _user: Annotated[User | None, Depends(load_user)]
) -> FormData:
    """Every form POST carries the token of its page; a forged cross-site post cannot.
    (The user is loaded first: a signed-in user's token is bound to the session.)"""
    limit = request.app.state.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise TooLarge(
            N_("The file is larger than the %(mb)s MB limit"), params={"mb": limit >> 20}
        )
    form = await request.form(max_files=2, max_fields=200, max_part_size=limit + 1)
    sent = form.get("csrf_token", "")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a 500).
    if not isinstance(sent, str) or not hmac.compare_digest(
        csrf_token(request).encode(), sent.encode()
    ):
        raise Forbidden(N_("The form has expired. Reload the page and try again."))
    items = [
        (name, without_pasted_invisibles(value) if isinstance(value, str) else value)
        for name, value in form.multi_items()
    ]
    for name, value in items:
        if isinstance(value, str) and has_control_chars(value):
            raise Invalid([(name, N_("This field contains invisible control characters"))])
    return FormData(items)


FormDep = Annotated[FormData, Depends(csrf_form)]

_PYDANTIC_MESSAGES = {
    "missing": N_("This field is required"),
    "string_too_short": N_("Use at least %(min_length)s characters"),
    "string_too_long": N_("This is too long"),
    "string_pattern_mismatch": N_("Use only letters, digits, - and _"),
    "int_parsing": N_("Enter a whole number"),
    "int_from_float": N_("Enter a whole number"),
    "decimal_parsing": N_("Enter a number"),
    "decimal_max_places": N_("Use at most one decimal place"),
    "date_from_datetime_parsing": N_("Enter a date like 2026-05-01"),
    "date_parsing": N_("Enter a date like 2026-05-01"),
    "greater_than": N_("Must be greater than %(gt)s"),
    "less_than_equal": N_("Must be at most %(le)s"),
}


def translate_error(error: ErrorDetails) -> str:
    """One Pydantic error in the request's language, using our own message ids."""
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if error["type"] == "value_error":
        message = ctx.get("error", "").removeprefix("Value error, ")
        # Our validators raise message ids; a library's own English text is not shown as is.
        return gettext(message if i18n.is_ours(message) else N_("This value is not valid"))
    template = _PYDANTIC_MESSAGES.get(error["type"], N_("This value is not valid"))
    return gettext(template, **ctx) if ctx else gettext(template)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors as {field: message}, the first one per field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "__all__"
        errors.setdefault(field, translate_error(error))
    return errors


def validate_form(model: type[BaseModel], form: FormData, fields: list[str]):
    """(model, {}) when valid, else (None, {field: message}); empty strings count as missing."""
    data = {f: form.get(f) for f in fields if form.get(f) not in (None, "")}
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)


Filters = TypeVar("Filters", bound=BaseModel)


def read_filters(
    model: type[Filters], query: Mapping[str, Any], fields: list[str]
) -> tuple[Filters, dict[str, str], dict[str, str]]:
    """A list's filters from a query string (or a form's copy of it): (the filters, the values
    as typed, errors by field). A filter that is not valid is left out, so the list is never
    narrowed by a guess."""
    values = {f: str(query.get(f) or "").strip() for f in fields}
    given = {f: v for f, v in values.items() if v}
    try:
        return model.model_validate(given), values, {}
    except ValidationError as exc:
        errors = field_errors(exc)
    try:
        return (
            model.model_validate({f: v for f, v in given.items() if f not in errors}),
            values,
            errors,
        )
    except ValidationError:
        return model(), values, errors


def form_values(form: FormData, fields: list[str]) -> dict[str, str]:
    """What the user typed, to show again beside the errors."""
    return {f: str(form.get(f) or "") for f in fields}


Data = TypeVar("Data", bound=BaseModel)
# Never typed back into a page, even beside an error: a password, an ID number (PIPL).
NEVER_SHOWN_AGAIN = frozenset({"password", "id_number"})


def submit(
    request: Request,
    session: Session,
    form: FormData,
    model: type[Data],
    act: Callable[[Data], Any],
    *,
    again: Callable[[dict, dict], Response],
    done: str | Callable[[Any], str],
    flash: str,
) -> Response:
    """One form's whole cycle. Valid and accepted by the service: commit, then redirect with a
    flash message (POST, redirect, GET). Otherwise roll back and show the page again, through
    again(values, errors), with every field error beside its field and what the user typed."""
    fields = list(model.model_fields)
    data, errors = validate_form(model, form, fields)
    if data is not None:
        try:
            result = act(data)
            session.commit()
            return redirect(request, done(result) if callable(done) else done, flash=flash)
        except Invalid as exc:
            errors = exc.field_messages()
        except Conflict as exc:
            errors = {exc.field or "__all__": gettext(exc.message, **exc.params)}
        session.rollback()
    values = {f: v for f, v in form_values(form, fields).items() if f not in NEVER_SHOWN_AGAIN}
    return again(values, errors)
