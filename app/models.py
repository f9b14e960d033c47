"""Every table model, imported once: the one metadata for Alembic and the tests."""

from app.audit.models import AuditAnchor, AuditEvent
from app.auth.models import (
    ApiToken,
    LoginLock,
    RecoveryCode,
    ThrottleEvent,
    User,
    UserSession,
)
from app.certificates.models import Certificate, SigningKey
from app.cities.models import City
from app.companies.models import Company
from app.completions.models import Completion, CompletionBatch
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.goals.models import GoalPlan
from app.goals.tally import GoalMember, GoalTotal
from app.jobs.models import Job, JobItem
from app.me.models import CertificateShare, DeletionRequest, TraineeCode, TraineeSession
from app.retention.models import CryptoState
from app.trainees.models import Trainee
from app.universities.models import University

__all__ = [
    "ApiToken",
    "AuditAnchor",
    "AuditEvent",
    "Certificate",
    "CertificateShare",
    "City",
    "Company",
    "Completion",
    "CompletionBatch",
    "CryptoState",
    "DeletionRequest",
    "ThrottleEvent",
    "Course",
    "Enrollment",
    "GoalMember",
    "GoalPlan",
    "GoalTotal",
    "Job",
    "JobItem",
    "LoginLock",
    "RecoveryCode",
    "SigningKey",
    "Trainee",
    "TraineeCode",
    "TraineeSession",
    "University",
    "User",
    "UserSession",
]
