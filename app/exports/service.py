"""Exports: the request checked and queued as a job, and the finished file read back.

An export is a job (app/jobs) scoped like its data: a university's staff (or token) export
their university's part and their jobs are theirs; an administrator's are the alliance's.
Nothing is stored but the job: its params hold what was asked. The file is kept encrypted in
the data folder (it holds names and ID numbers) as exports/<job>.<format>.enc.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import clock
from app.audit import service as audit
from app.courses import service as courses
from app.courses.models import Course
from app.db import id_of
from app.enrollments.models import Enrollment
from app.errors import Invalid, NotFound
from app.exports import tables
from app.exports.models import COMPLETIONS, ENROLLMENTS, GOALS, ExportCreate
from app.i18n import N_, gettext
from app.jobs import service as jobs
from app.jobs.models import Job
from app.universities.models import University

KINDS = {k: f"exports.{k}" for k in (GOALS, COMPLETIONS, ENROLLMENTS)}
FOLDER = "exports"
FINAL = "file"  # the last item's key: write the file
PART_ROWS = 5_000  # completions a part holds: the bar moves a part at a time
NOTHING_IN_RANGE = N_(
    "No completion is dated from %(start)s to %(end)s: there is nothing to export. "
    "Choose another range."
)
NO_SUCH_COURSE = N_("None of your university's courses has this code")
NO_ENROLLMENTS = N_("Nobody is enrolled in this course: there is nothing to export")
# Full ID numbers in a list of completions are the alliance's to ask for (issue 9; PIPL's
# minimum): a university's staff have them where the work needs them, in a course's
# enrollment list, to fill in and upload back.
ADMINS_ONLY = N_(
    "Only an administrator can export completions with full ID numbers. Export them masked, "
    "or download a course's enrollment list, which has them for your university"
)
NAMES = {
    GOALS: (N_("Goal summary %(range)s"), "goals-%(range)s"),
    COMPLETIONS: (N_("Completions and certificates %(range)s"), "completions-%(range)s"),
    ENROLLMENTS: (N_("%(code)s enrollment list"), "%(code)s-enrollments"),
}


@dataclass(frozen=True)
class Asker:
    """Who asks: an account or a token, for a university (its part) or the alliance."""

    actor: str
    university_id: int | None
    is_admin: bool


def start(session: Session, data: ExportCreate, asker: Asker, *, language: str) -> Job:
    """The export queued as a job, audited; Invalid beside the field when there is nothing to
    export or the course is not the asker's. The caller commits, then queues the job."""
    scope = None if asker.is_admin else asker.university_id
    if data.kind == COMPLETIONS and data.full_ids and not asker.is_admin:
        raise Invalid([("full_ids", ADMINS_ONLY)])
    params: dict = {
        "export": data.kind,
        "format": data.format,
        "full_ids": data.full_ids and data.kind != GOALS,
        "language": language,
        "university_id": scope,
    }
    if data.kind == ENROLLMENTS:
        course = _course(session, data.course_code or "", asker)
        rows = _enrolled(session, course)
        if not rows:
            raise Invalid([("course_code", NO_ENROLLMENTS)])
        params |= {"course_id": course.id, "course_code": course.code}
        keys = [FINAL]
    else:
        assert data.date_from is not None and data.date_to is not None  # the model checks
        params |= {"date_from": data.date_from.isoformat(), "date_to": data.date_to.isoformat()}
        ids = tables.completion_ids(
            session, date_from=data.date_from, date_to=data.date_to, university_id=scope
        )
        if not ids:
            range_ = {"start": data.date_from.isoformat(), "end": data.date_to.isoformat()}
            raise Invalid([("date_from", NOTHING_IN_RANGE)], params=range_)
        rows = len(ids)
        keys = [FINAL] if data.kind == GOALS else [*_parts(ids), FINAL]
    params["rows"] = rows
    job = jobs.start(
        session,
        kind=KINDS[data.kind],
        university_id=scope,
        actor=asker.actor,
        item_keys=keys,
        params=params,
    )
    audit.record(
        session,
        asker.actor,
        "export.create",
        "job",
        job.id,
        **{k: v for k, v in params.items() if k not in ("language", "full_ids")},
        id_numbers="full" if params["full_ids"] else "masked",
    )
    return job


def _course(session: Session, code: str, asker: Asker) -> Course:
    try:
        course = courses.get_by_code(session, code)
    except NotFound:
        course = None
    if course is None or not (asker.is_admin or course.university_id == asker.university_id):
        raise Invalid([("course_code", NO_SUCH_COURSE)])  # another's course: as if none
    return course


def _enrolled(session: Session, course: Course) -> int:
    return session.exec(
        select(func.count()).where(
            Enrollment.course_id == course.id, Enrollment.status == "enrolled"
        )
    ).one()


def _parts(ids: list[int]) -> list[str]:
    """Item keys "rows:<n>:<first id>:<last id>", PART_ROWS completions each. Completions
    recorded later have larger ids: they fall after the last part, and out of the export."""
    return [
        f"rows:{n}:{ids[at]}:{ids[min(at + PART_ROWS, len(ids)) - 1]}"
        for n, at in enumerate(range(0, len(ids), PART_ROWS))
    ]


def is_export(job: Job) -> bool:
    return job.kind in KINDS.values()


def recent(session: Session, *, university_id: int | None, admin: bool, limit: int = 20):
    query = select(Job).where(col(Job.kind).in_(KINDS.values()))
    if not admin:
        query = query.where(Job.university_id == university_id)
    return list(session.exec(query.order_by(col(Job.id).desc()).limit(limit)))


def file_path(data_dir: Path, job: Job) -> Path:
    return data_dir / FOLDER / f"{id_of(job)}.{jobs.params_of(job).get('format', 'xlsx')}.enc"


def kept_file(data_dir: Path, job: Job) -> Path | None:
    """The finished export's file, or None (not finished, or made no file)."""
    if not is_export(job) or not job.result_path:
        return None
    path = (data_dir / job.result_path).resolve()
    if path.parent != (data_dir / FOLDER).resolve() or not path.is_file():
        return None
    return path


def names(session: Session, job: Job) -> tuple[str, str]:
    """The file's name in the reader's language, and its plain ASCII twin."""
    params = jobs.params_of(job)
    kind, fmt = params.get("export", GOALS), params.get("format", "xlsx")
    if kind == ENROLLMENTS:
        values = {"code": params.get("course_code", "")}
    else:
        values = {"range": f"{params.get('date_from')}_{params.get('date_to')}"}
    title, ascii_name = NAMES[kind]
    prefix = ""  # a university's part of the figures says whose it is; a course says so itself
    university = params.get("university_id")
    if kind != ENROLLMENTS and university is not None:
        prefix = f"{session.get_one(University, university).code}-"
    return f"{prefix}{gettext(title, **values)}.{fmt}", f"{prefix}{ascii_name % values}.{fmt}"


def downloaded(session: Session, job: Job, *, actor: str) -> None:
    """A download of a file with full ID numbers is audited: who took them, and when."""
    params = jobs.params_of(job)
    if params.get("full_ids"):
        audit.record(
            session,
            actor,
            "export.download",
            "job",
            job.id,
            export=params.get("export"),
            rows=params.get("rows"),
            id_numbers="full",
        )


def default_range() -> tuple[str, str]:
    """The form's default: this quarter so far (China's dates)."""
    today = clock.today()
    first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return first.isoformat(), today.isoformat()
