"""What a worker does with an export's items (app/jobs registers the kinds from here).

A goal summary or a course's enrollments is one item: the file. The completions and
certificates of a range are one item per PART_ROWS completions, then the file: each part's
rows are read (and the ID numbers decrypted, when full) and written in the file's format into
a part file, so the bar moves with the work; the last item joins the parts in order. Every
file is encrypted (it holds names and ID numbers) and reaches its name only once complete
(written under a temporary name, then renamed), so a worker killed midway leaves nothing a
later one would take for done, and an item done again finds its file there.
"""

import io
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import clock, i18n
from app.completions import enrollment_list
from app.courses.models import Course
from app.db import id_of
from app.exports import service, sheets, tables
from app.exports.models import COMPLETIONS, ENROLLMENTS, GOALS
from app.i18n import N_, gettext
from app.jobs import registry
from app.jobs import service as jobs
from app.jobs.models import Job, JobItem
from app.security import keys_of
from app.universities.models import University

LABELS = {
    GOALS: N_("Goal summary export"),
    COMPLETIONS: N_("Completions and certificates export"),
    ENROLLMENTS: N_("Enrollment list export"),
}


def _do_item(item: registry.Item) -> str | None:
    params = jobs.params_of(item.job)
    language = i18n.set_language(params.get("language", i18n.DEFAULT_LANGUAGE))
    try:
        if item.key == service.FINAL:
            return _write_file(item, params)
        return _part(item, params, item.key)
    finally:
        i18n.reset_language(language)


def _parts_dir(data_dir: Path, job: Job) -> Path:
    return data_dir / service.FOLDER / f".{id_of(job)}.parts"


def _part_path(item: registry.Item, key: str) -> Path:
    number = int(key.split(":")[1])
    return _parts_dir(item.settings.data_dir, item.job) / f"{number:05d}.jsonl.enc"


def _part(item: registry.Item, params: dict, key: str) -> str | None:
    """The part file of one range of completion ids, unless it or the whole file is there."""
    path = _part_path(item, key)
    if path.exists() or service.file_path(item.settings.data_dir, item.job).exists():
        return None
    _, _, first, last = key.split(":")
    rows = tables.completion_rows(
        item.session,
        first_id=int(first),
        last_id=int(last),
        date_from=date.fromisoformat(params["date_from"]),
        date_to=date.fromisoformat(params["date_to"]),
        university_id=params.get("university_id"),
        full_ids=bool(params.get("full_ids")),
    )
    # Rendered now, for the file's format: the file is then only joined (and the bar moves
    # with the work). Encrypted: it holds names, and ID numbers when full.
    rendered = sheets.render(rows, params.get("format", "xlsx"))
    _keep(path, keys_of(item.session).encrypt_bytes(rendered.encode()))
    return str(len(rows))


def _rendered_parts(item: registry.Item, params: dict) -> Iterator[str]:
    keys = item.session.exec(
        select(JobItem.item_key)
        .where(JobItem.job_id == id_of(item.job), JobItem.item_key != service.FINAL)
        .order_by(col(JobItem.position))
    ).all()
    secrets = keys_of(item.session)
    for key in keys:
        path = _part_path(item, key)
        if not path.exists():
            _part(item, params, key)  # its item failed, or its file went missing
        yield secrets.decrypt_bytes(path.read_bytes()).decode()


def _write_file(item: registry.Item, params: dict) -> str | None:
    data_dir = item.settings.data_dir
    final = service.file_path(data_dir, item.job)
    made = None
    if not final.exists():
        content, notes = _content(item, params)
        out = io.BytesIO()
        sheets.write(out, params.get("format", "xlsx"), content, notes)
        _keep(final, keys_of(item.session).encrypt_bytes(out.getvalue()))
        made = str(len(out.getvalue()))  # bytes, for the ledger
    shutil.rmtree(_parts_dir(data_dir, item.job), ignore_errors=True)
    item.session.execute(
        update(Job)
        .where(col(Job.id) == id_of(item.job))
        .values(result_path=str(final.relative_to(data_dir)))
    )
    return made


def _content(item: registry.Item, params: dict) -> tuple[list[sheets.Table], sheets.Table]:
    session, kind = item.session, params["export"]
    if kind == ENROLLMENTS:
        course = session.get_one(Course, params["course_id"])
        rows = enrollment_list.rows(
            session, course, translate=gettext, full_ids=bool(params.get("full_ids"))
        )
        table = sheets.Table(gettext(N_("Enrollments")), enrollment_list.HEADER, rows)
        return [table], _notes(session, item.job, params, [[gettext(N_("Course")), course.code]])
    start, end = date.fromisoformat(params["date_from"]), date.fromisoformat(params["date_to"])
    dates = [[gettext(N_("Completed on")), f"{start.isoformat()} – {end.isoformat()}"]]
    if kind == GOALS:
        found = tables.goal_tables(
            session, date_from=start, date_to=end, university_id=params.get("university_id")
        )
        definitions = [
            [],
            *tables.goal_definitions(),
            [gettext(N_("Counted once")), gettext(_COUNTED_ONCE)],
        ]
        return found, _notes(session, item.job, params, dates + definitions)
    table = sheets.Table(
        gettext(N_("Completions")),
        tables.completion_header(),
        widths=tables.COMPLETION_WIDTHS,
        rendered=_rendered_parts(item, params),
    )
    return [table], _notes(session, item.job, params, dates)


_COUNTED_ONCE = N_(
    "Every figure counts distinct universities, companies or trainees, never records. A "
    "trainee who completed while working for two companies counts for both companies and "
    "both cities, so the rows do not add up to the whole province's line."
)


def _notes(session: Session, job: Job, params: dict, lines: list[list]) -> sheets.Table:
    university = params.get("university_id")
    found = session.get(University, university) if university is not None else None
    full = params.get("full_ids")
    rows = [
        [gettext(N_("For")), found.name if found else gettext(N_("The whole alliance"))],
        *lines,
        [gettext(N_("Rows")), params.get("rows", "")],
        [
            gettext(N_("ID numbers")),
            gettext(N_("In full: personal data, keep it safe and delete it when done"))
            if full
            else gettext(N_("Masked")),
        ],
        [gettext(N_("Made at")), clock.now().strftime("%Y-%m-%d %H:%M")],
        [gettext(N_("Text")), gettext(_AS_TEXT)],
    ]
    header = [gettext(N_("Export")), gettext(LABELS[params["export"]])]
    return sheets.Table(gettext(N_("Notes")), header, rows, (24, 90))


_AS_TEXT = N_(
    "Text a spreadsheet would take for a formula (starting with = + - @) is kept as text; "
    "in a CSV it has a single quote before it."
)


def _keep(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # on disk before the row that names it is committed
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def _describe(session: Session, keys: list[str]) -> dict[str, str]:
    return {
        key: gettext(N_("The file"))
        if key == service.FINAL
        else gettext(N_("Part %(n)s of the completions"), n=int(key.split(":")[1]) + 1)
        for key in keys
    }


def _links(job: Job) -> list[registry.Link]:
    if not job.result_path:
        return []
    return [registry.Link(N_("Download the file"), "exports:file", {"job_id": job.id})]


for _kind, _label in LABELS.items():
    registry.register(
        registry.Kind(
            name=service.KINDS[_kind],
            label=_label,
            do_item=_do_item,
            describe=_describe,
            links=_links,
        )
    )
