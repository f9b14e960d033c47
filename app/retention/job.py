"""The retention job on the job queue: started daily by the workers' periodic task and by
`dandelion retention run`; three items, each a part of app.retention.service. An alliance job
(no university): administrators see it on the job page."""

from datetime import timedelta

from sqlmodel import Session, col, select

from app import clock
from app.db import utcnow
from app.i18n import N_, gettext
from app.jobs import registry
from app.jobs import service as jobs
from app.jobs.models import Job
from app.retention import service

KIND = "retention.run"
CONTACTS, UPLOADS, EXPORTS = "contacts", "uploads", "exports"
ITEMS = (CONTACTS, UPLOADS, EXPORTS)
_DESCRIPTIONS = {
    CONTACTS: N_("Contact details of enrollments in courses ended long ago"),
    UPLOADS: N_("Uploaded originals past their retention period"),
    EXPORTS: N_("Export files past their retention period"),
}
# The daily run is skipped when one started this recently: every worker's periodic task
# fires, and one run a day is enough.
_DAILY = timedelta(hours=20)


def start(session: Session, *, actor: str) -> Job:
    return jobs.start(session, kind=KIND, university_id=None, actor=actor, item_keys=list(ITEMS))


def start_daily(session: Session) -> Job | None:
    recent = session.exec(
        select(Job.id).where(Job.kind == KIND, col(Job.created_at) > utcnow() - _DAILY)
    ).first()
    return None if recent is not None else start(session, actor="system")


def _do_item(item: registry.Item) -> str | None:
    session, settings, actor = item.session, item.settings, item.job.actor
    if item.key == CONTACTS:
        count = service.anonymise_ended(session, settings, actor=actor, today=clock.today())
    elif item.key == UPLOADS:
        count = service.delete_old_originals(session, settings, actor=actor, now=utcnow())
    else:
        count = service.delete_old_exports(session, settings, actor=actor, now=utcnow())
    return str(count)


def _describe(_session: Session, keys: list[str]) -> dict[str, str]:
    return {key: gettext(_DESCRIPTIONS[key]) for key in keys if key in _DESCRIPTIONS}


registry.register(
    registry.Kind(
        name=KIND,
        label=N_("Retention of personal data"),
        do_item=_do_item,
        describe=_describe,
    )
)
