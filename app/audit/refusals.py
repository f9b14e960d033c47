"""Permission refusals (403 to a logged-in user or a token holder) as security events.

Recorded in a session of their own, after the request's has ended (its transaction may have
been rolled back), and at most one a minute for one actor and one route, so that a flood of
refused requests cannot fill the log. The check and the insert are not atomic: two refusals
at the same instant may both be written, which bounds the log all the same.
"""

import logging
from datetime import timedelta

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth.models import ApiToken
from app.db import utcnow
from app.errors import Forbidden
from app.security import token_digest

ACTION = "security.refused"
WINDOW = timedelta(minutes=1)
log = logging.getLogger(__name__)


def record(request: Request, exc: Forbidden) -> None:
    route = request.scope.get("route")
    where = str(getattr(route, "name", None) or request.url.path)[:40]
    try:
        with request.app.state.sessions() as session:
            actor = _actor(request, session)
            if actor is None:
                return
            recent = select(AuditEvent.id).where(
                col(AuditEvent.actor) == actor,
                col(AuditEvent.action) == ACTION,
                col(AuditEvent.object_id) == where,
                col(AuditEvent.at) >= utcnow() - WINDOW,
            )
            if session.exec(recent.limit(1)).first() is not None:
                return
            audit.record(
                session,
                actor,
                ACTION,
                "route",
                where,
                method=request.method,
                path=getattr(route, "path", None),  # the template: no value of the request's
                reason=exc.message,
            )
            session.commit()
    except SQLAlchemyError:
        # The refusal stands whether or not it could be written down.
        log.exception("a permission refusal could not be audited")


def _actor(request: Request, session) -> str | None:
    user = getattr(request.state, "user", None)
    if user is not None:
        return user.actor
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    found = session.exec(
        select(ApiToken.id).where(col(ApiToken.token_hash) == token_digest(secret.strip()))
    ).first()
    return f"token:{found}" if found is not None else None
