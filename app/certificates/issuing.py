"""Issuing a course's certificates as a background job: one ledger item per pending completion.

The press only lists the completions and queues the job; a worker prints each certificate on
its own, so a course of 500 is no longer cut into presses of 100, and a worker killed halfway
leaves the rest to the next one. Each item is idempotent: a completion that already has its
issued certificate is done with that serial (the unique index uq_certificate_issued_completion
stops a second one), and a PDF reaches its final name only with the commit of its row.
"""

from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import clock
from app.audit import service as audit
from app.certificates import pdf, renderer, service
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.config import Settings
from app.courses.models import Course
from app.i18n import N_
from app.jobs import registry
from app.jobs import service as jobs
from app.jobs.models import Job
from app.jobs.registry import ItemRefused
from app.security import keys_of
from app.trainees.models import Trainee
from app.trainees.validators import mask_name
from app.universities.models import University

KIND = "certificates.issue"
# A completion an upload changes again and again while its certificate prints is left after
# this many prints (the next press issues it).
PRINTS = 3
REVOKED_MEANWHILE = N_(
    "This completion's certificate was revoked while the job waited: it is not issued again"
)


def pending_completions(session: Session, course: Course) -> list[int]:
    """Completions of the course without a certificate, in the order they came. A revoked
    one is not pending: revocation is deliberate, and a reissue is the way to a new paper."""
    issued = select(Certificate.completion_id).where(
        col(Certificate.status).in_(("issued", "revoked"))
    )
    rows = session.exec(
        select(col(Completion.id))
        .where(Completion.course_id == course.id, ~col(Completion.id).in_(issued))
        .order_by(col(Completion.id))
    )
    return [n for n in rows if n is not None]


def start(session: Session, course: Course, *, actor: str) -> Job | None:
    """The job that issues the course's pending certificates; None when none is pending.
    The caller commits, then queues the job (app.jobs.queue)."""
    pending = pending_completions(session, course)
    if not pending:
        return None
    pdf.require()  # a machine that cannot print answers the press at once (503), not item by item
    job = jobs.start(
        session,
        kind=KIND,
        university_id=course.university_id,
        actor=actor,
        item_keys=[str(i) for i in pending],
        params={"course_id": course.id, "course_code": course.code},
    )
    audit.record(
        session, actor, "certificate.issue", "course", course.id, job=job.id, pending=len(pending)
    )
    return job


def issue_one(
    session: Session,
    completion_id: int,
    *,
    public_url: str,
    data_dir: Path,
    today: date,
    ahead: tuple[Certificate, bytes] | None = None,
) -> str:
    """Issue the certificate of one completion, or find the one it has; returns its serial.
    Flushes, never commits: the caller's commit stores the row and moves the PDF into place.
    `ahead` is the certificate print_ahead printed for it, used if it still says what the
    record says."""
    for _ in range(PRINTS):
        existing = _issued_serial(session, completion_id)
        if existing is not None:
            return existing
        if _revoked(session, completion_id):  # revoked after this job was started
            raise ItemRefused(REVOKED_MEANWHILE)
        completion = session.get(Completion, completion_id)
        if completion is None:
            raise ItemRefused(N_("This completion was deleted before its certificate was issued"))
        try:
            cert = service.print_current(
                session,
                completion,
                public_url=public_url,
                data_dir=data_dir,
                today=today,
                ahead=ahead,
            )
        except (pdf.UnprintableText, pdf.PrintingUnavailable) as exc:
            # The holder's name, a course or university name, or a machine that lost its
            # fonts since the press: the item fails with the reason, naming what to install.
            raise ItemRefused(exc.message, exc.params) from exc
        ahead = None
        if cert is not None:
            return _insert(session, cert)
        # An upload changed the completion while it printed: print it again as it is now.
        session.rollback()
        session.expire_all()
    raise ItemRefused(N_("This completion kept changing while its certificate printed"))


def print_ahead(
    session: Session, settings: Settings, keys: list[str]
) -> dict[str, tuple[Certificate, bytes]]:
    """A leased chunk's certificates printed together on every core (renderer.render_many)
    before its items are done one by one: a worker then spends its time writing rows, not
    waiting for one render after another. Nothing is stored here; an item whose record
    changes meanwhile, or that is issued by another worker first, ignores what was printed."""
    ids = [int(k) for k in keys if k.isdigit()]
    taken = select(Certificate.completion_id).where(
        col(Certificate.status).in_(("issued", "revoked"))
    )
    rows = session.exec(
        select(Completion, Trainee, Course, University)
        .join(Trainee, col(Completion.trainee_id) == Trainee.id)
        .join(Course, col(Completion.course_id) == Course.id)
        .join(University, col(Course.university_id) == University.id)
        .where(col(Completion.id).in_(ids), ~col(Completion.id).in_(taken))
    ).all()
    today, keys_ = clock.today(), keys_of(session)
    made: dict[str, tuple[Certificate, pdf.CertificateView]] = {}
    for completion, trainee, course, university in rows:
        if pdf.unprintable_chars(trainee.name):
            continue  # its item says why
        made[str(completion.id)] = service.new_certificate(
            completion,
            trainee.name,
            course,
            university,
            public_url=settings.public_url,
            data_dir=settings.data_dir,
            today=today,
            keys=keys_,
        )
    printed = renderer.render_many([view for _cert, view in made.values()])
    return {
        key: (cert, content)
        for (key, (cert, _view)), content in zip(made.items(), printed, strict=True)
        if isinstance(content, bytes)
    }


def _revoked(session: Session, completion_id: int) -> bool:
    return (
        session.exec(
            select(Certificate.id).where(
                Certificate.completion_id == completion_id, Certificate.status == "revoked"
            )
        ).first()
        is not None
    )


def _issued_serial(session: Session, completion_id: int) -> str | None:
    return session.exec(
        select(Certificate.serial).where(
            Certificate.completion_id == completion_id, Certificate.status == "issued"
        )
    ).first()


def _insert(session: Session, cert: Certificate) -> str:
    session.add(cert)
    try:
        session.flush()
    except IntegrityError:
        # Another worker issued this completion first (its lease on the item ran out while it
        # printed, say): its certificate stands, ours and its PDF go with the rollback.
        session.rollback()
        existing = _issued_serial(session, cert.completion_id)
        if existing is None:
            raise
        return existing
    return cert.serial


def _issue_item(item: registry.Item) -> str:
    return issue_one(
        item.session,
        int(item.key),
        public_url=item.settings.public_url,
        data_dir=item.settings.data_dir,
        today=clock.today(),
        ahead=item.ahead,
    )


def _holders(session: Session, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    rows = session.exec(
        select(Completion.id, Trainee.name)
        .join(Trainee, col(Completion.trainee_id) == Trainee.id)
        .where(col(Completion.id).in_(ids))
    )
    return {str(cid): mask_name(name) for cid, name in rows}


def _links(job: Job) -> list[registry.Link]:
    code = jobs.params_of(job).get("course_code")
    if not code:
        return []
    return [registry.Link(N_("The course's certificates"), "courses:staff_detail", {"code": code})]


registry.register(
    registry.Kind(
        name=KIND,
        label=N_("Issuing certificates"),
        do_item=_issue_item,
        describe=_holders,
        links=_links,
        ahead=print_ahead,
    )
)
