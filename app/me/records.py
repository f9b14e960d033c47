"""What is held about a trainee, as they see it: enrollments, completions, certificates."""

import hmac
from datetime import date
from typing import NamedTuple

from sqlmodel import Session, col, select

from app import clock
from app.certificates.models import Certificate
from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.db import id_of
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.me.deps import SignedIn
from app.me.models import CertificateShare, DeletionRequest
from app.security import keys_of
from app.universities.models import University

NO_SUCH_ENROLLMENT = N_("No enrollment of yours has this number")


class Record(NamedTuple):
    enrollment: Enrollment
    course: Course
    university: University
    company: Company
    completion: Completion | None
    # Made with the mobile this session signed in with: only those may be withdrawn here, and
    # only their contact details are shown in full (someone else may have enrolled with this
    # ID number and their own mobile; they must not read or change the holder's other ones).
    mine: bool

    def withdrawable(self, today: date) -> bool:
        return (
            self.mine
            and self.enrollment.status == "enrolled"
            and self.completion is None
            and self.course.starts_on > today
        )


def _mine(session: Session, signed: SignedIn, enrollment: Enrollment) -> bool:
    mobile = enrollments.mobile_of(session, enrollment)
    return bool(mobile) and hmac.compare_digest(
        keys_of(session).lookup_hash(mobile).encode(), signed.row.mobile_hash.encode()
    )


def records_of(session: Session, signed: SignedIn) -> list[Record]:
    trainee_id = signed.trainee.id
    completions = {
        c.enrollment_id: c
        for c in session.exec(select(Completion).where(Completion.trainee_id == trainee_id))
    }
    rows = session.exec(
        select(Enrollment, Course, University, Company)
        .join(Course, col(Enrollment.course_id) == Course.id)
        .join(University, col(Course.university_id) == University.id)
        .join(Company, col(Enrollment.company_id) == Company.id)
        .where(Enrollment.trainee_id == trainee_id)
        .order_by(col(Course.starts_on).desc(), col(Enrollment.id).desc())
    )
    return [
        Record(e, course, university, company, completions.get(id_of(e)), _mine(session, signed, e))
        for e, course, university, company in rows
    ]


def certificates_of(session: Session, trainee_id: int) -> list[Certificate]:
    return list(
        session.exec(
            select(Certificate)
            .join(Completion, col(Certificate.completion_id) == Completion.id)
            .where(Completion.trainee_id == trainee_id)
            .order_by(col(Certificate.issued_at).desc())
        )
    )


def certificate_of(session: Session, trainee_id: int, serial: str) -> Certificate:
    """One of the trainee's certificates; anyone else's answers as a missing one."""
    cert = session.exec(
        select(Certificate)
        .join(Completion, col(Certificate.completion_id) == Completion.id)
        .where(Completion.trainee_id == trainee_id, Certificate.serial == serial.strip().upper())
    ).first()
    if cert is None:
        raise NotFound(N_("No certificate of yours has this serial number"))
    return cert


def withdraw(session: Session, signed: SignedIn, enrollment_id: int) -> Enrollment:
    record = next(
        (r for r in records_of(session, signed) if r.enrollment.id == enrollment_id), None
    )
    if record is None:
        raise NotFound(NO_SUCH_ENROLLMENT)
    if not record.mine:
        raise Conflict(
            N_("This enrollment was made with another mobile: sign in with that one to withdraw it")
        )
    enrollments.withdraw(session, record.enrollment, actor=signed.actor, today=clock.today())
    return record.enrollment


def held_data(session: Session, signed: SignedIn) -> dict:
    """Everything held about the trainee, as the download gives it. The ID number in full: the
    trainee typed it to sign in. Mobiles and emails in full only for enrollments made with the
    mobile of this session."""
    keys = keys_of(session)
    trainee = signed.trainee

    def contact(record: Record) -> dict:
        e = record.enrollment
        if not record.mine:
            return {"mobile": e.mobile_masked, "email": None}
        email = keys.decrypt(e.email_encrypted) if e.email_encrypted else None
        return {"mobile": enrollments.mobile_of(session, e), "email": email}

    records = records_of(session, signed)
    shares = session.exec(
        select(CertificateShare, Certificate)
        .join(Certificate, col(CertificateShare.certificate_id) == Certificate.id)
        .where(CertificateShare.trainee_id == trainee.id)
    )
    requests = session.exec(select(DeletionRequest).where(DeletionRequest.trainee_id == trainee.id))
    return {
        "trainee": {
            "name": trainee.name,
            "id_number": keys.decrypt(trainee.id_encrypted) or None,
            "registered_at": trainee.created_at,
        },
        "enrollments": [
            {
                "enrollment_no": r.enrollment.enrollment_no,
                "course_code": r.course.code,
                "course": r.course.title,
                "university": r.university.name,
                "starts_on": r.course.starts_on,
                "ends_on": r.course.ends_on,
                "status": r.enrollment.status,
                "employer": r.company.name,
                "employer_uscc": r.company.uscc,
                "share_with_employer": r.enrollment.share_with_employer,
                "consent_version": r.enrollment.consent_version,
                "consent_at": r.enrollment.consent_at,
                "consent_channel": r.enrollment.consent_channel,
                "enrolled_at": r.enrollment.created_at,
                **contact(r),
            }
            for r in records
        ],
        "completions": [
            {
                "course_code": r.course.code,
                "completed_on": r.completion.completed_on,
                "hours": str(r.completion.hours),
                "score": str(r.completion.score) if r.completion.score is not None else None,
                "grade": r.completion.grade,
            }
            for r in records
            if r.completion is not None
        ],
        "certificates": [
            {
                "serial": c.serial,
                "status": c.status,
                "holder_name": c.holder_name,
                "course": c.course_title,
                "university": c.university_name,
                "issued_on": c.issued_on,
                "revoked_at": c.revoked_at,
                "revoke_reason": c.revoke_reason,
            }
            for c in certificates_of(session, trainee.id or 0)
        ],
        "share_copies": [
            {
                "certificate": c.serial,
                "purpose": s.purpose,
                "valid_until": s.valid_until,
                "created_at": s.created_at,
                "revoked_at": s.revoked_at,
            }
            for s, c in shares
        ],
        "deletion_requests": [
            {"state": d.state, "requested_at": d.requested_at, "decided_at": d.decided_at}
            for d in requests
        ],
    }
