"""What a course's staff see of its trainees and their certificates: each trainee's state on
the course page (enrolled, completed, certified, revoked), filtered by completion date and
state, and before issuing, who will get a certificate and who is refused and why.

Read-only: the course page calls this module, so the course page no longer goes through
enrollments to come back to courses.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from app.certificates import issuing, pdf
from app.certificates.models import Certificate
from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.db import id_of
from app.enrollments.models import Enrollment
from app.i18n import N_
from app.trainees.models import Trainee

WITHDRAWN, ENROLLED, COMPLETED, CERTIFIED, REVOKED = (
    "withdrawn",
    "enrolled",
    "completed",
    "certified",
    "revoked",
)
STATES = {
    ENROLLED: N_("Enrolled"),
    COMPLETED: N_("Completed, no certificate yet"),
    CERTIFIED: N_("Certified"),
    REVOKED: N_("Certificate revoked"),
    WITHDRAWN: N_("Withdrawn"),
}
State = Literal["enrolled", "completed", "certified", "revoked", "withdrawn"]


class CompletedRange(BaseModel):
    """Completion dates from and to, both optional, the end not before the start: the course
    page's filters and a print run's selection."""

    completed_from: date | None = None
    completed_to: date | None = None

    @field_validator("completed_to")
    @classmethod
    def _not_before_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("completed_from")
        if value is not None and start is not None and value < start:
            raise ValueError(N_("The end date is before the start date"))
        return value


class RosterFilter(CompletedRange):
    """The course page's filters, from its query string."""

    state: State | None = None

    @property
    def by_date(self) -> bool:
        return self.completed_from is not None or self.completed_to is not None

    def takes(self, completed_on: date | None) -> bool:
        if not self.by_date:
            return True
        if completed_on is None:
            return False
        after = self.completed_from is None or completed_on >= self.completed_from
        return after and (self.completed_to is None or completed_on <= self.completed_to)


@dataclass
class Replaced:
    """A superseded certificate and the reissue that replaced it."""

    certificate: Certificate
    replacement: Certificate | None


@dataclass
class RosterRow:
    enrollment: Enrollment
    trainee: Trainee
    company: Company
    completion: Completion | None
    certificate: Certificate | None  # the one that counts: issued, else the revoked one
    replaced: list[Replaced] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.certificate is not None:
            return CERTIFIED if self.certificate.status == "issued" else REVOKED
        if self.completion is not None:
            return COMPLETED
        return ENROLLED if self.enrollment.status == "enrolled" else WITHDRAWN


def course_roster(
    session: Session, course: Course, filters: RosterFilter | None = None
) -> list[RosterRow]:
    """Every enrollment of the course with its completion and certificates, in enrollment
    order, narrowed by the filters."""
    rows = session.exec(
        select(Enrollment, Trainee, Company, Completion)
        .join(Trainee, col(Enrollment.trainee_id) == Trainee.id)
        .join(Company, col(Enrollment.company_id) == Company.id)
        .outerjoin(Completion, col(Completion.enrollment_id) == Enrollment.id)
        .where(Enrollment.course_id == course.id)
        .order_by(col(Enrollment.id))
    ).all()
    by_completion = _certificates_by_completion(session, course)
    roster = []
    for enrollment, trainee, company, completion in rows:
        certs = by_completion.get(id_of(completion), []) if completion else []
        row = RosterRow(enrollment, trainee, company, completion, _current(certs))
        replacements = {c.supersedes_id: c for c in certs if c.supersedes_id}
        row.replaced = [
            Replaced(c, replacements.get(c.id)) for c in certs if c.status == "superseded"
        ]
        roster.append(row)
    filters = filters or RosterFilter()
    return [
        row
        for row in roster
        if filters.takes(row.completion.completed_on if row.completion else None)
        and (filters.state is None or row.state == filters.state)
    ]


def _certificates_by_completion(session: Session, course: Course) -> dict[int, list]:
    found: dict[int, list[Certificate]] = {}
    for cert in session.exec(
        select(Certificate).where(Certificate.course_id == course.id).order_by(col(Certificate.id))
    ):
        found.setdefault(cert.completion_id, []).append(cert)
    return found


def _current(certs: list[Certificate]) -> Certificate | None:
    issued = [c for c in certs if c.status == "issued"]
    revoked = [c for c in certs if c.status == "revoked"]
    current = issued or revoked
    return current[-1] if current else None


@dataclass
class Preview:
    """Before issuing: who gets a certificate, who is refused and why, and how many
    completions with a revoked certificate are left alone."""

    to_issue: list[tuple[Completion, Trainee]]
    refused: list[tuple[Completion, Trainee, str]]  # the characters the fonts cannot print
    revoked: int


def issue_preview(session: Session, course: Course) -> Preview:
    pending = issuing.pending_completions(session, course)
    rows = session.exec(
        select(Completion, Trainee)
        .join(Trainee, col(Completion.trainee_id) == Trainee.id)
        .where(col(Completion.id).in_(pending))
        .order_by(col(Completion.id))
    ).all()
    to_issue, refused = [], []
    for completion, trainee in rows:
        missing = pdf.unprintable_chars(trainee.name)
        if missing:
            refused.append((completion, trainee, pdf.UnprintableText(missing).params["chars"]))
        else:
            to_issue.append((completion, trainee))
    revoked = session.exec(
        select(col(Certificate.completion_id))
        .where(Certificate.course_id == course.id, Certificate.status == "revoked")
        .distinct()
    ).all()
    return Preview(to_issue, refused, len(revoked))
