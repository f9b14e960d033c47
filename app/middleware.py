"""The layers around every request: only the configured host is served; the language, HTTPS and
the browser's CSRF secret are settled; some requests are refused before the app reads them; and
every response, however early it is refused, carries the headers that keep it safe; and each
request is written to the log once, when it is answered (AccessLog)."""

import logging
import re
import time
import uuid
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n, logs, web
from app.auth.deps import SESSION_COOKIE
from app.config import Settings
from app.errors import TooLarge
from app.i18n import N_, gettext
from app.ops.health import PROBES

# Pages use no script by default; styles allow inline for the progress bars' widths.
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# The few pages that run a same-origin script (a job's progress, the employer type-ahead, the
# confirmation's print button) set this one on their response; never an inline script.
SCRIPT_CSP = CSP.replace("script-src 'none'", "script-src 'self'")
# Swagger UI and ReDoc start from an inline script, and ReDoc runs a worker from a blob: URL.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
LOCAL_HOSTS = ["localhost", "127.0.0.1", "testserver"]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
STATIC = ("/static/", "/static-offline-docs/")
# Public pages that show one person's records (masked, but theirs): an enrollment's
# confirmation, a certificate's verification.
PERSONAL_PAGES = ("/enrollments/", "/verify", "/api/v1/certificates/")


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RequestContext, settings=settings)
    # Outside RequestContext: its early error pages are built with links from the Host header.
    app.add_middleware(HostCheck, allowed_hosts=allowed_hosts(settings))
    inner = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return AccessLog(ResponseHeaders(inner(), settings))

    # Around Starlette's ServerErrorMiddleware as well, so that even a 500 carries the headers.
    # The app comes from FastAPIOffline, a function, so no subclass can override the method.
    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def allowed_hosts(settings: Settings) -> list[str]:
    if settings.environment == "development":
        # The demo is served on 0.0.0.0 so that a phone on the same network can open it by
        # the machine's address; links and redirects are paths, so no Host is ever reflected.
        return ["*"]
    public = urlsplit(settings.public_url).hostname or "localhost"
    extra = [host.strip() for host in settings.allowed_hosts.split(",") if host.strip()]
    return [public, *extra] + (LOCAL_HOSTS if settings.environment != "production" else [])


class HostCheck:
    """Only the configured hosts are served, but for the probes: a load balancer asks by the
    machine's address, which changes with every machine, and their answers reflect no Host."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]):
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROBES:
            return await self.app(scope, receive, send)
        await self.checked(scope, receive, send)


def is_https(scope: Scope, settings: Settings) -> bool:
    # uvicorn (proxy_headers, DANDELION_FORWARDED_ALLOW_IPS) has already set the scheme from a
    # trusted proxy's X-Forwarded-Proto; a TLS proxy that does not say so is known by the URL.
    return scope.get("scheme") == "https" or settings.public_url.startswith("https://")


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return (parts.scheme, parts.hostname, port) if parts.hostname and port else None


def refusal(scope: Scope, status: int, message: str) -> Response:
    """An error answered before the app has run: the same page or JSON as any other error."""
    if scope["path"].startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status)
    return web.render(
        Request(scope), "error.html", {"status": status, "message": message}, status_code=status
    )


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class RequestContext:
    """Per request: the language, HTTPS, the browser's CSRF secret and the early refusals."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.max_body = settings.max_upload_bytes + 256 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            return await self.app(scope, receive, send)  # probes get no cookie, read none
        conn = HTTPConnection(scope)
        language = i18n.set_language(
            i18n.choose_language(
                conn.cookies.get(web.LANG_COOKIE), conn.headers.get("accept-language")
            )
        )
        https = web.set_https(is_https(scope, self.settings))
        try:
            secret = conn.cookies.get(web.csrf_cookie_name())
            scope.setdefault("state", {})["csrf_secret"] = secret or web.new_csrf_secret()
            refused = self._refusal(scope, conn)
            if refused is not None:
                return await refused(scope, receive, send)
            tripped: list[bool] = []
            send = self._with_csrf_cookie(scope, send, fresh=secret is None)
            await self.app(
                scope, self._capped(receive, tripped), self._answer_413(scope, send, tripped)
            )
        finally:
            web.reset_https(https)
            i18n.reset_language(language)

    def _refusal(self, scope: Scope, conn: HTTPConnection) -> Response | None:
        if "\x00" in scope["path"]:
            # No URL of ours holds a NUL; PostgreSQL would refuse it as a parameter anyway.
            return refusal(scope, 404, gettext(N_("Page not found")))
        if self._cross_site(scope, conn):
            return refusal(
                scope,
                403,
                gettext(
                    N_(
                        "Requests from other sites are refused. Open "
                        "this site directly and try again."
                    )
                ),
            )
        length = conn.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            # Refused before any byte of the body is read or spooled to disk.
            return self._too_large(scope)
        return None

    def _cross_site(self, scope: Scope, conn: HTTPConnection) -> bool:
        """A browser names the page a request comes from; a page of another site may not change
        anything here, whatever cookies it makes the browser send along."""
        if scope["method"] not in UNSAFE_METHODS:
            return False
        if scope["path"].startswith("/api/") and conn.headers.get(
            "authorization", ""
        ).lower().startswith("bearer "):
            return False  # a browser never adds a bearer token on its own
        if conn.headers.get("sec-fetch-site") == "cross-site":
            return True
        origin = conn.headers.get("origin")
        # None (an address that does not parse, such as a Host with port 99999) is never ours.
        ours = {_origin(self.settings.public_url), _origin(str(conn.base_url))} - {None}
        return origin is not None and _origin(origin) not in ours

    def _too_large(self, scope: Scope) -> Response:
        return refusal(
            scope,
            413,
            gettext(N_("The file is larger than the %(mb)s MB limit"), mb=self.max_body >> 20),
        )

    def _capped(self, receive: Receive, tripped: list[bool]) -> Receive:
        """Counts the body as it arrives: a chunked request has no Content-Length to check."""
        seen = 0

        async def capped():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                tripped.append(True)
                raise TooLarge(
                    N_("The file is larger than the %(mb)s MB limit"),
                    params={"mb": self.max_body >> 20},
                )
            return message

        return capped

    def _answer_413(self, scope: Scope, send: Send, tripped: list[bool]) -> Send:
        """Whatever the app made of the cut-off body (FastAPI answers 400), the client gets 413."""

        async def send_or_replace(message):
            if not tripped:
                return await send(message)
            if message["type"] == "http.response.start":
                await self._too_large(scope)(scope, _no_body, send)

        return send_or_replace

    @staticmethod
    def _with_csrf_cookie(scope: Scope, send: Send, fresh: bool) -> Send:
        """A browser without a CSRF secret gets one; login and logout hand out a new one."""

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and (
                fresh or scope["state"].get("csrf_rotated")
            ):
                carrier = Response()
                web.set_cookie(carrier, web.csrf_cookie_name(), scope["state"]["csrf_secret"])
                MutableHeaders(scope=message).append("set-cookie", carrier.headers["set-cookie"])
            await send(message)

        return send_with_cookie


class ResponseHeaders:
    """The security headers on every response, and no-store on every answer that may hold
    personal data: whatever a signed-in user or a token holder sees, whatever a form sent."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                self._harden(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _harden(self, scope: Scope, headers: MutableHeaders) -> None:
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        docs = scope["path"].startswith(("/docs", "/redoc"))
        headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        if is_https(scope, self.settings):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if scope["path"].startswith(STATIC):
            return  # the same files for everyone
        # Pages differ by language and carry a token bound to the cookies.
        headers.add_vary_header("Accept-Language")
        headers.add_vary_header("Cookie")
        if "cache-control" not in headers and self._personal(scope, headers):
            headers["Cache-Control"] = "no-store"

    @staticmethod
    def _personal(scope: Scope, response: MutableHeaders) -> bool:
        request = HTTPConnection(scope)
        # A stale session cookie counts too: telling it apart would take a database look-up.
        return (
            scope["method"] not in ("GET", "HEAD")
            or "authorization" in request.headers
            or scope["path"].startswith(PERSONAL_PAGES)
            or SESSION_COOKIE in request.cookies
            or any(v.startswith(f"{SESSION_COOKIE}=") for v in response.getlist("set-cookie"))
        )


# A client's own request id (a proxy's, say) is kept when it is short and plain; any other
# value is replaced, so the header cannot smuggle text or personal data into the log.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
access_log = logging.getLogger("app.access")


def request_id_of(scope: Scope) -> str:
    given = HTTPConnection(scope).headers.get("x-request-id", "")
    if _REQUEST_ID.fullmatch(given) and logs.mask(given) == given:
        return given
    while True:
        made = uuid.uuid4().hex
        if logs.mask(made) == made:  # eleven digits in a row would be masked in the log
            return made


def route_template(scope: Scope) -> str | None:
    """The matched route's path as declared, with its prefix: /api/v1/certificates/{serial}.
    A router included with a prefix matches the rest of the path, so the prefix is the part
    of the path before where the route's own pattern matches."""
    route = scope.get("route")
    template, pattern = getattr(route, "path", None), getattr(route, "path_regex", None)
    if template is None or pattern is None:
        return None
    path = scope["path"]
    for i, character in enumerate(path):
        if character == "/" and pattern.match(path[i:]):
            return path[:i] + template
    return template


class AccessLog:
    """One line per request, outermost, so refusals and 500s are counted too: the route's
    template (/share/{token}, never the path or the query string), method, status, duration
    and the signed-in user's id. The request id is echoed in the X-Request-ID header."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = request_id_of(scope)
        token = logs.request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._write(scope, status, time.perf_counter() - started)
            logs.request_id.reset(token)

    @staticmethod
    def _write(scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        user = scope.get("state", {}).get("user")
        # A probe answered "ok" every few seconds says nothing: only its failures are logged.
        quiet = scope["path"] in PROBES and status == 200
        level = logging.ERROR if status >= 500 else logging.DEBUG if quiet else logging.INFO
        access_log.log(
            level,
            "%s %s %d",
            scope["method"],
            route or "-",
            status,
            extra={
                "route": route,
                "method": scope["method"],
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": getattr(user, "id", None),
            },
        )
