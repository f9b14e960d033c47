"""What the job page and its JSON twins show: one summary, in the reader's language."""

from fastapi import Request
from sqlmodel import Session

from app.auth.models import ApiToken, User
from app.i18n import N_, gettext
from app.jobs import registry, service
from app.jobs.models import Job

STATES = {
    service.QUEUED: N_("Waiting for a worker"),
    service.RUNNING: N_("Running"),
    service.DONE: N_("Finished"),
    service.FAILED: N_("Failed"),
}


def kind_label(job: Job) -> str:
    kind = registry.get(job.kind)
    return gettext(kind.label) if kind else job.kind


def actor_text(session: Session, actor: str) -> str:
    """Who started it, as staff know them: a user's email, an API token's name."""
    what, _, number = actor.partition(":")
    if what == "user" and number.isdigit() and (user := session.get(User, int(number))):
        return user.email
    if what == "token" and number.isdigit() and (token := session.get(ApiToken, int(number))):
        return gettext("API token “%(name)s”", name=token.name)
    return actor


def percent(job: Job) -> int:
    return 100 if not job.total else min(100, (job.done + job.failed) * 100 // job.total)


def summary(request: Request, session: Session, job: Job) -> dict:
    """The job as the page and the JSON twins show it; failed items name people masked."""
    kind = registry.get(job.kind)
    failed = service.failed_items(session, job)
    who = kind.describe(session, [i.item_key for i in failed]) if kind and failed else {}
    finished = job.state in (service.DONE, service.FAILED)
    links = kind.links(job) if kind and finished else []
    message, params = service.read_error(job.error)
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": kind_label(job),
        "state": job.state,
        "state_label": gettext(STATES.get(job.state, job.state)),
        "finished": finished,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "percent": percent(job),
        "counts_text": gettext(
            "%(done)s done, %(failed)s failed, of %(total)s",
            done=job.done,
            failed=job.failed,
            total=job.total,
        ),
        "started_by": actor_text(session, job.actor),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": _say(message, params) or None,
        "failed_items": [
            {"item": i.item_key, "who": who.get(i.item_key, ""), "message": _reason(i.error)}
            for i in failed
        ],
        "links": [
            {"label": gettext(link.label), "url": request.url_for(link.route, **link.params).path}
            for link in links
        ],
    }


def _reason(error: str | None) -> str:
    return _say(*service.read_error(error))


def _say(message: str, params: dict) -> str:
    if not message:
        return ""
    try:
        return gettext(message, **params)
    except (KeyError, ValueError, TypeError):  # a stored message that lost its parameters
        return gettext(message)
