"""Issuing certificates: render once, store the bytes, sign the canonical fields; verifying them."""

import base64
import hashlib
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.certificates import pdf, serials, storage
from app.certificates.models import Certificate
from app.certificates.verification import canonical_fields
from app.completions.models import Completion
from app.courses.models import Course
from app.db import id_of
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment
from app.errors import NotFound
from app.i18n import N_
from app.security import Keys, keys_of
from app.trainees import service as trainees
from app.trainees.models import Trainee
from app.universities import service as universities
from app.universities.models import University


def sign(c: Certificate, keys: Keys) -> str:
    raw = keys.signing_key.sign(canonical_fields(c).encode())
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def verify_url(public_url: str, serial: str) -> str:
    return f"{public_url.rstrip('/')}/verify/{serial}"


def _lock_as_recorded(session: Session, completion_ids: list[int]) -> dict:
    """What the completions say now, read under a lock held until the commit.

    Rendering takes seconds and holds no lock, so an upload may change a completion meanwhile.
    The row locks (SQLite's write lock) keep the values read next the record's until the
    certificates are committed; the upload's own check for issued certificates then sees them."""
    if not completion_ids:
        return {}
    ids = sorted(completion_ids)  # the order uploads update in too: no deadlock between them
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: any write takes the database's one write lock.
        session.execute(
            update(Completion).where(col(Completion.id).in_(ids)).values(hours=Completion.hours)
        )
    else:
        session.execute(
            select(Completion.id)
            .where(col(Completion.id).in_(ids))
            .order_by(col(Completion.id))
            .with_for_update()
        )
    rows = session.exec(
        select(
            col(Completion.id),
            col(Completion.completed_on),
            col(Completion.hours),
            col(Trainee.name),
        )
        .join(Trainee, col(Completion.trainee_id) == Trainee.id)
        .where(col(Completion.id).in_(ids))
    )
    return {cid: (completed_on, hours, name) for cid, completed_on, hours, name in rows}


def print_current(
    session: Session,
    completion: Completion,
    *,
    public_url: str,
    data_dir: Path,
    today: date,
    ahead: tuple[Certificate, bytes] | None = None,
) -> Certificate | None:
    """A new certificate of the completion as it is recorded now, printed (or ahead's print,
    made for a whole chunk, if it still says what the record says) and staged: a rollback
    deletes its PDF, the caller's commit moves it into place. The row is not added.

    None when an upload changed the completion while it printed: the caller prints again or
    gives up. UnprintableText or PrintingUnavailable when it cannot be printed."""
    trainee = session.get_one(Trainee, completion.trainee_id)
    recorded = (completion.completed_on, completion.hours, trainee.name)
    if ahead is not None and printed_values(ahead[0]) == recorded:
        cert = store_printed(ahead[0], ahead[1], data_dir)
    else:
        course = session.get_one(Course, completion.course_id)
        university = session.get_one(University, course.university_id)
        cert, view = new_certificate(
            completion,
            trainee.name,
            course,
            university,
            public_url=public_url,
            data_dir=data_dir,
            today=today,
            keys=keys_of(session),
        )
        store_printed(cert, pdf.render_pdf(view), data_dir)
    storage.publish_on_commit(
        session, storage.temp_path(data_dir, cert.serial), data_dir / cert.pdf_path
    )
    completion_id = id_of(completion)
    current = _lock_as_recorded(session, [completion_id]).get(completion_id)
    return cert if current == printed_values(cert) else None


def printed_values(cert: Certificate) -> tuple:
    """What a certificate printed that its completion's record may change meanwhile."""
    return (cert.completed_on, cert.hours, cert.holder_name)


def new_certificate(
    completion: Completion,
    holder: str,
    course: Course,
    university: University,
    *,
    public_url: str,
    data_dir: Path,
    today: date,
    keys: Keys,
) -> tuple[Certificate, pdf.CertificateView]:
    """A new certificate, signed, and what its PDF prints; nothing is printed or stored yet
    (a batch prints many views at once: renderer.render_many)."""
    cert = Certificate(
        serial=serials.new_serial(today.year),
        completion_id=id_of(completion),
        university_id=id_of(university),
        course_id=id_of(course),
        holder_name=holder,
        course_code=course.code,
        course_title=course.title,
        university_name=university.name,
        hours=completion.hours,
        completed_on=completion.completed_on,
        issued_on=today,
        key_id=keys.key_id,
        signature="",
        pdf_path="",
        pdf_sha256="",
    )
    cert.signature = sign(cert, keys)
    signatory = universities.signatory(university, course)
    view = pdf.CertificateView(
        serial=cert.serial,
        holder_name=holder,
        course_title=course.title,
        course_code=course.code,
        university_name=university.name,
        hours=completion.hours,
        completed_on=completion.completed_on,
        issued_on=today,
        verify_url=verify_url(public_url, cert.serial) + f"?k={cert.key_id}&s={cert.signature}",
        university_name_en=university.name_en,
        course_title_en=course.title_en,
        signatory_name=signatory[0],
        signatory_title=signatory[1],
        seal_png=universities.seal_png(university, data_dir),
    )
    return cert, view


def store_printed(cert: Certificate, content: bytes, data_dir: Path) -> Certificate:
    """The printed PDF under a temporary name, its final path and fingerprint on the row."""
    storage.write_temp(data_dir, cert.serial, content)
    relative = storage.final_path(cert.issued_on.year, cert.serial)
    cert.pdf_path, cert.pdf_sha256 = str(relative), hashlib.sha256(content).hexdigest()
    return cert


def sweep_orphans(
    session: Session, data_dir: Path, *, grace: timedelta = timedelta(hours=1)
) -> int:
    """Delete every certificate PDF that no certificate row names, and the temporary files of
    processes that died (a kill -9 while issuing); returns how many files went. Run at start,
    with a session that has read nothing yet."""
    # Listed before the rows are read: a PDF gets its final name only after its row is
    # committed, so none listed here can belong to a row this query would miss.
    temps, finals = storage.listing(data_dir)
    rows = {
        serial: (Path(path), sha)
        for serial, path, sha in session.exec(
            select(Certificate.serial, Certificate.pdf_path, Certificate.pdf_sha256)
        )
    }
    named = {path for path, _sha in rows.values()}
    removed = 0
    for temp in temps:
        if not storage.abandoned(temp, grace):
            continue  # a live process is still issuing it
        path, sha = rows.get(storage.serial_of(temp), (None, None))
        try:
            if path is not None and not (data_dir / path).exists() and _sha256(temp) == sha:
                storage.move_into_place(temp, data_dir / path)  # killed after the commit
                continue
            temp.unlink()
            removed += 1
        except FileNotFoundError:  # another instance, starting too, swept it first
            pass
    for final in finals:
        if final.relative_to(data_dir) not in named:
            final.unlink(missing_ok=True)
            removed += 1
    return removed


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def get_by_serial(session: Session, raw: str) -> Certificate:
    serial = serials.normalize_serial(raw)  # InvalidSerial: the caller shows "mistyped"
    cert = session.exec(select(Certificate).where(Certificate.serial == serial)).first()
    if cert is None:
        raise NotFound(N_("No certificate has this serial number"))
    return cert


def pdf_bytes(cert: Certificate, data_dir: Path) -> bytes:
    """The bytes stored at issue time, checked against their fingerprint."""
    content = (data_dir / cert.pdf_path).read_bytes()
    if hashlib.sha256(content).hexdigest() != cert.pdf_sha256:
        raise RuntimeError(f"stored PDF of {cert.serial} does not match its SHA-256")
    return content


def find_for_trainee(session: Session, *, id_number: str, mobile: str) -> list[Certificate] | None:
    """Certificates of the enrollments made with this ID number and this mobile number.

    None when no enrollment matches both: say nothing about which of the two is wrong."""
    trainee = trainees.get_by_id_number(session, id_number)
    if trainee is None:
        return None
    own = [
        e.id
        for e in session.exec(select(Enrollment).where(Enrollment.trainee_id == trainee.id))
        if enrollments.mobile_of(session, e) == mobile
    ]
    if not own:
        return None
    return list(
        session.exec(
            select(Certificate)
            .join(Completion, col(Certificate.completion_id) == Completion.id)
            .where(col(Completion.enrollment_id).in_(own))
            .order_by(col(Certificate.issued_at).desc())
        )
    )
