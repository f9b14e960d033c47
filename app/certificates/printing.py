"""Print runs: one merged PDF of a course's certificates (all of them, the ticked ones, or those
the filters show), printed in the background as a job and kept in the data folder.

The PDF is printed afresh from each certificate's record (the same serial, signature and QR
code), as WeasyPrint documents with their fonts shared, never by gluing the stored PDFs together.
The ledger has one item per certificate, in page order, and a last item that joins the parts.
A certificate's item prints the part of PART certificates it falls in unless that part is
there already, so the bar moves a part at a time. A part's file is named after the certificates
it holds: a certificate revoked after its part printed makes the part print again, without it,
when the parts are joined. Every file reaches its name only once it is complete (written under
a temporary name, then renamed), and one worker at a time prints a part (a lock the kernel lets
go of when its worker dies), so a killed worker leaves nothing a later one would take for done.
"""

import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pypdf
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.certificates import merge, pdf, renderer, serials, service
from app.certificates.models import Certificate
from app.courses.models import Course
from app.db import id_of
from app.errors import Invalid
from app.i18n import N_, gettext
from app.jobs import pages as job_pages
from app.jobs import registry
from app.jobs import service as jobs
from app.jobs.models import Job, JobItem
from app.jobs.registry import ItemRefused
from app.trainees.validators import mask_name
from app.universities import service as universities
from app.universities.models import University

KIND = "certificates.print"
FINAL = "pdf"  # the last item's key: join the parts into the print file
PART = 100  # certificates a part holds (the bar moves a part at a time): 50 pages a renderer
FOLDER = "prints"
FIELD = "serial"  # the form field (and API field) a selection error is shown beside


@dataclass
class Selection:
    """What a print run prints, in page order, and what it leaves out."""

    certificates: list[Certificate]
    skipped: list[Certificate]  # revoked or replaced: never printed


def select_certificates(
    session: Session,
    course: Course,
    *,
    serials_given: list[str] | None = None,
    completed_from: date | None = None,
    completed_to: date | None = None,
) -> Selection:
    """The course's certificates by serial (ticked on the course page, or sent through the
    API), else every one completed within the dates. Invalid when a serial is not one of the
    course's certificates."""
    query = select(Certificate).where(Certificate.course_id == course.id)
    if serials_given is not None:
        wanted, wrong = _normalized(serials_given)
        found = list(session.exec(query.where(col(Certificate.serial).in_(wanted))))
        wrong += sorted(set(wanted) - {c.serial for c in found})
        if wrong:
            raise Invalid(
                [(FIELD, N_("These are not certificates of this course: %(serials)s"))],
                params={"serials": ", ".join(wrong)},
            )
    else:
        if completed_from is not None:
            query = query.where(col(Certificate.completed_on) >= completed_from)
        if completed_to is not None:
            query = query.where(col(Certificate.completed_on) <= completed_to)
        found = list(session.exec(query))
    found.sort(key=lambda c: id_of(c))
    return Selection(
        [c for c in found if c.status == "issued"], [c for c in found if c.status != "issued"]
    )


def _normalized(given: list[str]) -> tuple[list[str], list[str]]:
    wanted, wrong = [], []
    for raw in given:
        try:
            wanted.append(serials.normalize_serial(raw))
        except serials.InvalidSerial:
            wrong.append(raw[:40])
    return list(dict.fromkeys(wanted)), wrong


def start(
    session: Session, course: Course, selection: Selection, *, actor: str, scope: dict
) -> Job:
    """The print run of the selection, queued; Invalid (beside FIELD) when nothing in it can
    be printed. scope says how it was chosen, for the print log. The caller commits, then
    queues the job."""
    if not selection.certificates:
        raise Invalid([(FIELD, _why_empty(selection))], params=skipped_params(selection))
    certs = selection.certificates
    job = jobs.start(
        session,
        kind=KIND,
        university_id=course.university_id,
        actor=actor,
        item_keys=[str(id_of(c)) for c in certs] + [FINAL],
        params={
            "course_id": course.id,
            "course_code": course.code,
            "certificates": len(certs),
            "skipped": [c.serial for c in selection.skipped],
            **scope,
        },
    )
    audit.record(
        session,
        actor,
        "certificate.print",
        "course",
        course.id,
        job=job.id,
        certificates=len(certs),
        skipped=len(selection.skipped),
        **scope,
    )
    return job


def _why_empty(selection: Selection) -> str:
    if selection.skipped:
        return N_("None of these can be printed: %(serials)s were revoked or replaced")
    return N_("No valid certificate matches: nothing to print")


def skipped_params(selection: Selection) -> dict:
    return {"serials": ", ".join(serials.format_serial(c.serial) for c in selection.skipped)}


def file_path(data_dir: Path, job: Job) -> Path | None:
    """The finished print file of the job, or None (not a print run, or not finished)."""
    if job.kind != KIND or not job.result_path:
        return None
    path = (data_dir / job.result_path).resolve()
    if path.parent != (data_dir / FOLDER).resolve() or not path.is_file():
        return None
    return path


@dataclass
class PrintRun:
    """One line of the print log."""

    job: Job
    course_code: str
    certificates: int  # chosen when it started
    pages: int | None  # in the file, once it is made


def print_log(
    session: Session,
    *,
    university_id: int | None,
    admin: bool = False,
    course: Course | None = None,
    limit: int = 100,
) -> list[PrintRun]:
    """The print runs of a university (an administrator: all), or of one of its courses,
    newest first."""
    query = select(Job).where(Job.kind == KIND).order_by(col(Job.id).desc())
    if not admin:
        query = query.where(Job.university_id == university_id)
    found = list(session.exec(query.limit(limit * 5 if course else limit)))
    if course is not None:
        found = [j for j in found if jobs.params_of(j).get("course_id") == course.id][:limit]
    pages = dict(
        session.exec(
            select(JobItem.job_id, JobItem.result).where(
                col(JobItem.job_id).in_([id_of(j) for j in found]),
                JobItem.item_key == FINAL,
                JobItem.state == jobs.DONE,
            )
        ).all()
    )
    return [_run(job, pages.get(id_of(job))) for job in found]


def _run(job: Job, pages: str | None) -> PrintRun:
    params = jobs.params_of(job)
    return PrintRun(
        job,
        params.get("course_code", ""),
        int(params.get("certificates", job.total - 1)),
        int(pages) if pages and pages.isdigit() else None,
    )


def log_view(session: Session, runs: list[PrintRun]) -> dict:
    """What the print log's template needs beside the runs: who started each, the states."""
    who = {run.job.actor: job_pages.actor_text(session, run.job.actor) for run in runs}
    return {"prints": runs, "who": who, "job_states": job_pages.STATES}


# What a worker does with each item.


def _print_item(item: registry.Item) -> str | None:
    data_dir = item.settings.data_dir
    job_id = id_of(item.job)
    if item.key == FINAL:
        return _assemble(item)
    if _final(data_dir, job_id).exists():
        return None  # joined already (this item's worker died after its part printed)
    cert = item.session.get(Certificate, int(item.key))
    if cert is None or cert.status != "issued":
        raise ItemRefused(N_("Not printed: revoked or replaced after the print run started"))
    position = item.session.exec(
        select(JobItem.position).where(JobItem.job_id == job_id, JobItem.item_key == item.key)
    ).one()
    _part(item, position // PART)
    return cert.serial


def _part(item: registry.Item, n: int) -> Path | None:
    """Part n of the run, printed now unless a worker printed it already; None when every
    certificate in it was revoked or replaced meanwhile."""
    session, job_id = item.session, id_of(item.job)
    keys = session.exec(
        select(JobItem.item_key)
        .where(
            JobItem.job_id == job_id,
            col(JobItem.position) >= n * PART,
            col(JobItem.position) < (n + 1) * PART,
            JobItem.item_key != FINAL,
        )
        .order_by(col(JobItem.position))
    ).all()
    ids = [int(k) for k in keys]
    rows = {
        id_of(c): c
        for c in session.exec(
            select(Certificate).where(col(Certificate.id).in_(ids), Certificate.status == "issued")
        )
    }
    certs = [rows[i] for i in ids if i in rows]
    if not certs:
        return None
    folder = _parts_dir(item.settings.data_dir, job_id)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(",".join(c.serial for c in certs).encode()).hexdigest()[:16]
    target = folder / f"{n:05d}-{digest}.pdf"
    with _locked(folder / f"{n:05d}.lock"):
        if not target.exists():
            views = views_of(session, certs, item.settings.public_url, item.settings.data_dir)
            renderer.render_print_run(views, target)  # complete at target, or nothing there
    return target


def _assemble(item: registry.Item) -> str:
    """Join the parts (printing any that are missing) into the print file; its page count."""
    data_dir, job_id = item.settings.data_dir, id_of(item.job)
    final = _final(data_dir, job_id)
    if not final.exists():
        count = int(jobs.params_of(item.job).get("certificates", item.job.total - 1))
        parts = [p for n in range(-(-count // PART)) if (p := _part(item, n))]
        if not parts:
            shutil.rmtree(_parts_dir(data_dir, job_id), ignore_errors=True)
            raise ItemRefused(N_("Nothing was printed: every certificate was revoked or replaced"))
        _join(parts, final)
    pages = len(pypdf.PdfReader(final).pages)
    shutil.rmtree(_parts_dir(data_dir, job_id), ignore_errors=True)
    item.session.execute(
        update(Job)
        .where(col(Job.id) == job_id)
        .values(result_path=str(final.relative_to(data_dir)))
    )
    return str(pages)


def _join(parts: list[Path], final: Path) -> None:
    temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        if len(parts) == 1:
            shutil.copyfile(parts[0], temp)
        else:
            merge.join_pdfs(parts, temp)  # a part at a time: memory stays at one part's worth
        with temp.open("rb+") as f:
            os.fsync(f.fileno())  # on disk before the row that names it is committed
        temp.replace(final)
    finally:
        temp.unlink(missing_ok=True)


def views_of(
    session: Session, certs: list[Certificate], public_url: str, data_dir: Path
) -> list[pdf.CertificateView]:
    """What each certificate printed, from its record; the English names, the signatory and
    the seal as the course and university have them now (the record does not keep them)."""
    course = session.get_one(Course, certs[0].course_id)
    university = session.get_one(University, certs[0].university_id)
    signatory_name, signatory_title = universities.signatory(university, course)
    seal = universities.seal_png(university, data_dir)
    return [
        pdf.CertificateView(
            serial=c.serial,
            holder_name=c.holder_name,
            course_title=c.course_title,
            course_code=c.course_code,
            university_name=c.university_name,
            hours=c.hours,
            completed_on=c.completed_on,
            issued_on=c.issued_on,
            verify_url=service.verify_url(public_url, c.serial) + f"?k={c.key_id}&s={c.signature}",
            university_name_en=university.name_en,
            course_title_en=course.title_en,
            signatory_name=signatory_name,
            signatory_title=signatory_title,
            seal_png=seal,
        )
        for c in certs
    ]


def _final(data_dir: Path, job_id: int) -> Path:
    return data_dir / FOLDER / f"{job_id}.pdf"


def _parts_dir(data_dir: Path, job_id: int) -> Path:
    return data_dir / FOLDER / f".{job_id}.parts"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # let go when the file closes, or its process dies
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _who(session: Session, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    rows = session.exec(
        select(Certificate.id, Certificate.holder_name, Certificate.serial).where(
            col(Certificate.id).in_(ids)
        )
    )
    who = {str(i): f"{mask_name(name)} ({serials.format_serial(s)})" for i, name, s in rows}
    if FINAL in keys:
        who[FINAL] = gettext(N_("The print file"))
    return who


def _links(job: Job) -> list[registry.Link]:
    links = []
    if job.result_path:
        links.append(
            registry.Link(
                N_("Download the print file (PDF)"), "certificates:print_file", {"job_id": job.id}
            )
        )
    code = jobs.params_of(job).get("course_code")
    if code:
        links.append(
            registry.Link(N_("Back to the course"), "courses:staff_detail", {"code": code})
        )
    return links


registry.register(
    registry.Kind(
        name=KIND,
        label=N_("Print run"),
        do_item=_print_item,
        describe=_who,
        links=_links,
    )
)
