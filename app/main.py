"""create_app(): routers, static files, error handlers and the middleware (app/middleware.py)."""

import logging
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from app import i18n, logs, middleware
from app.certificates import environment
from app.config import Settings
from app.db import make_engine, session_factory
from app.errors import AppError, Forbidden, Invalid, TooManyRequests, Unauthorized
from app.i18n import N_, gettext
from app.retention import crypto
from app.security import keys_of_settings
from app.web import LANG_COOKIE, ROOT, redirect, render, safe_path, set_cookie, translate_error


def create_app(settings: Settings) -> FastAPI:
    """Everything a request reads comes from here: app.state.settings, .keys and .sessions."""
    logs.install()  # before anything can log: no ID number or mobile in any line
    # No certificate fonts: production refuses to start (RefusedToStart), elsewhere a warning.
    environment.check_at_start(settings, warn=logging.getLogger("app.certificates").warning)
    # The API docs serve Swagger UI from the package, not a CDN: the server may have no internet.
    app = FastAPIOffline(
        title="Dandelion 蒲公英",
        version="0.1.0",
        description="Shandong textile and apparel digital-talent training: API twins of the pages.",
    )
    app.state.settings = settings
    app.state.keys = keys_of_settings(settings)  # settings.crypto: standard or national
    app.state.engine = make_engine(settings.database_url)
    app.state.sessions = session_factory(app.state.engine, app.state.keys)
    # Data at rest under the other algorithms: production refuses, elsewhere a warning.
    crypto.check_at_start(settings, app.state.sessions, warn=logging.getLogger("app").warning)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=ROOT / "app" / "static"), name="static")
    _include_routers(app)
    _install_error_handlers(app)

    @app.get("/lang/{code}", name="lang", include_in_schema=False)
    def switch_language(request: Request, code: str):
        # Only the path of the referring page: never redirect off-site.
        back = urlsplit(request.headers.get("referer") or "/")
        response = redirect(
            request, safe_path((back.path or "/") + (f"?{back.query}" if back.query else "")) or "/"
        )
        set_cookie(
            response,
            LANG_COOKIE,
            code if code in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE,
            max_age=365 * 86400,
        )
        return response

    middleware.install(app, settings)
    return app


def _include_routers(app: FastAPI) -> None:
    from app.admin.duties import within_duties
    from app.admin.router import router as admin
    from app.api import router as api
    from app.audit.router import router as audit
    from app.auth.router import router as auth
    from app.catalog.router import router as catalog
    from app.certificates.prints import router as certificate_prints
    from app.certificates.router import router as certificates
    from app.certificates.staff import router as certificate_staff
    from app.companies.router import router as companies
    from app.completions.downloads import router as completion_downloads
    from app.completions.router import router as completions
    from app.courses.router import router as courses
    from app.enrollments.router import router as enrollments
    from app.exports.router import router as exports
    from app.goals.router import router as goals
    from app.jobs.router import router as jobs
    from app.me.router import router as me
    from app.ops.health import router as health
    from app.trainees.router import router as trainees
    from app.universities.router import router as universities

    # Pages are HTML for people: /openapi.json documents the API only.
    for router in (
        goals,
        catalog,
        courses,
        enrollments,
        auth,
        admin,
        audit,
        universities,
        trainees,
        completion_downloads,  # before completions: /staff/uploads/template/... is no batch
        completions,
        certificates,
        certificate_staff,
        certificate_prints,
        companies,
        jobs,
        exports,
        me,
        health,
    ):
        # 三员: the security administrator and the auditor reach their own pages only.
        app.include_router(router, include_in_schema=False, dependencies=[Depends(within_duties)])
    app.include_router(api, prefix="/api/v1")


HTTP_MESSAGES = {
    400: N_("The request could not be read"),
    404: N_("Page not found"),
    405: N_("This address does not accept this kind of request"),
    413: N_("The request is too large"),
    500: N_("Something went wrong on our side. Please try again later."),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    from app.audit import refusals
    from app.auth.deps import LoginRequired

    @app.exception_handler(AppError)
    def app_error(request: Request, exc: AppError):
        if isinstance(exc, Forbidden):
            refusals.record(request, exc)  # a security event, in a transaction of its own
        if isinstance(exc, LoginRequired) and not _wants_json(request):
            return redirect(request, exc.page or "/login?" + urlencode({"next": request.url.path}))
        if _wants_json(request):
            if isinstance(exc, Invalid):
                return JSONResponse(
                    {
                        "errors": [
                            {"field": f, "message": gettext(m, **exc.params)} for f, m in exc.errors
                        ]
                    },
                    status_code=422,
                )
            return JSONResponse(
                {"detail": gettext(exc.message, **exc.params)},
                status_code=exc.status,
                headers=_error_headers(exc, api=True),
            )
        message = gettext(exc.message, **exc.params)
        if isinstance(exc, Invalid):  # the field's own reason says more than "invalid input"
            message = "; ".join(exc.field_messages().values()) or message
        response = render(
            request,
            "error.html",
            {"status": exc.status, "message": message},
            status_code=exc.status,
        )
        response.headers.update(_error_headers(exc, api=False))
        return response

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError):
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
                or "body",
                "message": translate_error(e),
            }
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"errors": errors}, status_code=422)
        return render(
            request, "error.html", {"status": 422, "message": errors[0]["message"]}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException):
        # Framework errors speak English; ours are translated, so users see their own language.
        message = gettext(
            HTTP_MESSAGES.get(exc.status_code, N_("This request could not be handled"))
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return _http_response(request, exc.status_code, message, headers)

    # Starlette's ServerErrorMiddleware calls this, then re-raises so the server logs the error.
    # It runs outside RequestContext, in a thread of its own: the language is chosen again.
    @app.exception_handler(Exception)
    def server_error(request: Request, exc: Exception):
        i18n.set_language(
            i18n.choose_language(
                request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
            )
        )
        return _http_response(request, 500, gettext(HTTP_MESSAGES[500]), {})


def _http_response(request: Request, status: int, message: str, headers: dict[str, str]):
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    response = render(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    response.headers.update(headers)
    return response


def _error_headers(exc: AppError, api: bool) -> dict[str, str]:
    if isinstance(exc, Unauthorized) and api:  # RFC 9110: a 401 names the scheme it wants
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, TooManyRequests) and "minutes" in exc.params:
        return {"Retry-After": str(int(exc.params["minutes"]) * 60)}
    return {}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path takes: Starlette names only the first route's.
    (Mounts are left out: they take any method and answer for themselves.)"""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return ", ".join(
        m
        for m in _METHODS
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    )
