"""A course's enrollment list as a workbook, with the full ID numbers: the completions
template filled in with the course's trainees, to add the dates and upload back."""

from datetime import datetime

from sqlmodel import Session, col, select

from app import clock
from app.audit import service as audit
from app.certificates.models import Certificate
from app.companies.models import Company
from app.completions import report, templates
from app.completions.models import Completion
from app.courses.models import Course
from app.db import id_of
from app.enrollments.models import Enrollment
from app.exports import sheets
from app.i18n import N_
from app.security import keys_of
from app.trainees.models import Trainee

# The first five are the completions template's columns, to fill in and upload back; the
# rest are for the clerk's eyes, under headers the upload passes over.
HEADER = [c.header for c in templates.COMPLETIONS.columns] + [
    "手机号",
    "工作单位",
    "报名时间",
    "状态",
]
_STATES = {
    None: N_("Enrolled"),
    "completed": N_("Completed, no certificate yet"),
    "issued": N_("Certified"),
    "revoked": N_("Certificate revoked"),
}


def workbook(session: Session, course: Course, *, actor: str, translate: report.Translate) -> bytes:
    """Every trainee enrolled (not withdrawn) with the full ID number, as text cells
    (sheets.text_workbook: no digit lost, no cell run as a formula). Audited: it is one of the
    places where staff get ID numbers unmasked (an export with full ID numbers is the other)."""
    found = rows(session, course, translate=translate)
    audit.record(
        session,
        actor,
        "enrollment.export",
        "course",
        course.id,
        course=course.code,
        rows=len(found),
        id_numbers="full",
    )
    return sheets.text_workbook([HEADER, *found])


def rows(
    session: Session, course: Course, *, translate: report.Translate, full_ids: bool = True
) -> list[list[str]]:
    """The list's rows under HEADER, in enrollment order; ID numbers masked unless full_ids."""
    found = session.exec(
        select(Enrollment, Trainee, Company, Completion)
        .join(Trainee, col(Enrollment.trainee_id) == Trainee.id)
        .join(Company, col(Enrollment.company_id) == Company.id)
        .outerjoin(Completion, col(Completion.enrollment_id) == Enrollment.id)
        .where(Enrollment.course_id == course.id, Enrollment.status == "enrolled")
        .order_by(col(Enrollment.id))
    ).all()
    certificates = _certificate_states(session, course)
    keys = keys_of(session)
    listed = []
    for enrollment, trainee, company, completion in found:
        state = None
        if completion is not None:
            state = certificates.get(id_of(completion), "completed")
        listed.append(
            [
                trainee.name,
                keys.decrypt(trainee.id_encrypted) if full_ids else trainee.id_masked,
                course.code,
                completion.completed_on.isoformat() if completion else "",
                _result(completion) if completion else "",
                enrollment.mobile_masked,
                company.name,
                _local(enrollment.created_at),
                translate(_STATES[state]),
            ]
        )
    return listed


def _certificate_states(session: Session, course: Course) -> dict[int, str]:
    """completion id -> "issued" if a certificate is valid, else "revoked" if one was revoked
    (a superseded one has its reissue beside it). Either way the upload cannot change it."""
    states: dict[int, str] = {}
    for completion_id, status in session.exec(
        select(Certificate.completion_id, Certificate.status).where(
            Certificate.course_id == course.id, col(Certificate.status).in_(("issued", "revoked"))
        )
    ):
        if states.get(completion_id) != "issued":
            states[completion_id] = status
    return states


def _result(completion: Completion) -> str:
    # As the upload reads it back: a grade (合格) as recorded, 85.0 as "85", 85.5 as it is.
    # Left empty where a grade or a score is recorded, the row would upload as a change.
    if completion.grade:
        return completion.grade
    return "" if completion.score is None else f"{completion.score.normalize():f}"


def _local(moment: datetime) -> str:
    return clock.in_china(moment).strftime("%Y-%m-%d %H:%M")
