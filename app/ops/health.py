"""Health for a load balancer: /healthz (the process answers), /readyz (it can serve).

Probes carry no cookie and ask by the machine's address, so app/middleware.py lets these two
paths through the host check and sets no CSRF cookie on them; they are kept out of the OpenAPI
schema with every page. /readyz touches the database once and the queue once: cheap enough to
be asked every few seconds by each balancer.
"""

import logging
from collections.abc import Callable
from functools import cache

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import migrate
from app.certificates import environment
from app.jobs import queue

router = APIRouter()
log = logging.getLogger(__name__)
PROBES = ("/healthz", "/readyz")


@router.get("/healthz", name="ops:healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", name="ops:readyz")
def readyz(request: Request) -> JSONResponse:
    """Each check "ok" or what failed; 503 when any failed, so the balancer sends no traffic."""
    checks: dict[str, Callable[[Request], str | None]] = {
        "database": _database,
        "fonts": _fonts,
        "queue": _queue,
    }
    results = {name: check(request) or "ok" for name, check in checks.items()}
    if results["database"] == "ok":
        results["migrations"] = _migrations(request) or "ok"
    failed = sorted(name for name, result in results.items() if result != "ok")
    if failed:
        log.warning("not ready: %s", ", ".join(f"{name}: {results[name]}" for name in failed))
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": results}
    return JSONResponse(body, status_code=503 if failed else 200)


@cache
def _heads() -> frozenset[str]:
    """The migrations this code expects: read once, the scripts do not change while it runs."""
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


def _database(request: Request) -> str | None:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"unreachable ({type(getattr(exc, 'orig', None) or exc).__name__})"
    return None


def _migrations(request: Request) -> str | None:
    try:
        with request.app.state.engine.connect() as connection:
            found = set(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    except SQLAlchemyError:
        return "not migrated: run `dandelion db upgrade`"
    if found != _heads():
        return f"at {', '.join(sorted(found)) or 'none'}, not {', '.join(sorted(_heads()))}"
    return None


def _fonts(_request: Request) -> str | None:
    problems = environment.problems()
    return "; ".join(str(problem) for problem in problems) if problems else None


def _queue(request: Request) -> str | None:
    try:
        queue.of(request.app).huey.storage.queue_size()
    except Exception as exc:  # SQLite's or psycopg's own errors: any of them means unreachable
        return f"unreachable ({type(exc).__name__})"
    return None
