"""A trainee's request to erase their data, and what a system administrator's confirmation does.

Kept (docs/privacy.md says why): completions and issued certificates' records, with the name
and ID number of their holder, and the goal counts they make; the enrollments they record.
Erased: every enrollment's mobile and email (app.retention.anonymise); enrollments without a
completion are withdrawn (their seats return, the counters follow); share copies are revoked;
sign-in codes and sessions end. A trainee without any completion loses name and ID number too.
"""

import secrets
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app import clock
from app.audit import service as audit
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.db import id_of, utcnow
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.me import signin
from app.me.models import CertificateShare, DeletionRequest
from app.retention.anonymise import anonymise_contacts
from app.security import keys_of
from app.trainees.models import Trainee

ERASED_NAME = "（已删除）"


class Holdings(NamedTuple):
    """What confirming a request would keep and change: the administrator reads it first."""

    enrollments: int
    to_withdraw: int
    completions: int
    certificates: int


def pending_of(session: Session, trainee_id: int) -> DeletionRequest | None:
    return session.exec(
        select(DeletionRequest).where(
            DeletionRequest.trainee_id == trainee_id, DeletionRequest.state == "pending"
        )
    ).first()


def latest_of(session: Session, trainee_id: int) -> DeletionRequest | None:
    return session.exec(
        select(DeletionRequest)
        .where(DeletionRequest.trainee_id == trainee_id)
        .order_by(col(DeletionRequest.id).desc())
    ).first()


def request(session: Session, trainee: Trainee) -> DeletionRequest:
    if pending_of(session, id_of(trainee)) is not None:
        raise Conflict(N_("Your request is already waiting for an administrator"))
    asked = DeletionRequest(trainee_id=id_of(trainee))
    session.add(asked)
    session.flush()
    audit.record(session, signin.actor_of(trainee), "me.deletion_request", "trainee", trainee.id)
    return asked


def pending(session: Session) -> list[tuple[DeletionRequest, Trainee]]:
    return list(
        session.exec(
            select(DeletionRequest, Trainee)
            .join(Trainee, col(DeletionRequest.trainee_id) == Trainee.id)
            .where(DeletionRequest.state == "pending")
            .order_by(col(DeletionRequest.requested_at))
        )
    )


def get(session: Session, request_id: int) -> tuple[DeletionRequest, Trainee]:
    row = session.exec(
        select(DeletionRequest, Trainee)
        .join(Trainee, col(DeletionRequest.trainee_id) == Trainee.id)
        .where(DeletionRequest.id == request_id)
    ).first()
    if row is None:
        raise NotFound(N_("No deletion request has this number"))
    return row


def holdings(session: Session, trainee_id: int) -> Holdings:
    def count(statement) -> int:
        return int(session.exec(statement).one())

    completed = select(Completion.enrollment_id).where(Completion.trainee_id == trainee_id)
    return Holdings(
        enrollments=count(
            select(func.count()).select_from(Enrollment).where(Enrollment.trainee_id == trainee_id)
        ),
        to_withdraw=count(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.trainee_id == trainee_id,
                Enrollment.status == "enrolled",
                col(Enrollment.id).not_in(completed),
            )
        ),
        completions=count(
            select(func.count()).select_from(Completion).where(Completion.trainee_id == trainee_id)
        ),
        certificates=count(
            select(func.count())
            .select_from(Certificate)
            .join(Completion, col(Certificate.completion_id) == Completion.id)
            .where(Completion.trainee_id == trainee_id)
        ),
    )


def _decide(asked: DeletionRequest, state: str, actor: str) -> None:
    if asked.state != "pending":
        raise Conflict(N_("This request was decided already"))
    asked.state, asked.decided_at, asked.decided_by = state, utcnow(), actor


def confirm(session: Session, asked: DeletionRequest, trainee: Trainee, *, actor: str) -> Holdings:
    _decide(asked, "done", actor)
    trainee_id = id_of(trainee)
    kept = holdings(session, trainee_id)
    completed = set(
        session.exec(select(Completion.enrollment_id).where(Completion.trainee_id == trainee_id))
    )
    own = list(session.exec(select(Enrollment).where(Enrollment.trainee_id == trainee_id)))
    for enrollment in own:
        if enrollment.status == "enrolled" and enrollment.id not in completed:
            enrollments.withdraw(
                session, enrollment, actor=actor, today=clock.today(), started_too=True
            )
    anonymise_contacts(session, [id_of(e) for e in own])
    session.execute(
        update(CertificateShare)
        .where(
            col(CertificateShare.trainee_id) == trainee_id,
            col(CertificateShare.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    signin.end_sessions_of(session, trainee_id)
    if not completed:
        _forget_identity(session, trainee)
    session.add(asked)
    audit.record(
        session,
        actor,
        "me.deletion_confirm",
        "trainee",
        trainee_id,
        withdrawn=kept.to_withdraw,
        kept_completions=kept.completions,
    )
    return kept


def _forget_identity(session: Session, trainee: Trainee) -> None:
    """No completion records this person: nothing needs their name or ID number any more.
    The row stays (withdrawn enrollments name it) under a hash of nothing anyone can type."""
    keys = keys_of(session)
    trainee.id_hash = keys.lookup_hash(f"erased|{trainee.id}|{secrets.token_urlsafe(16)}")
    trainee.id_encrypted = keys.encrypt("")
    trainee.id_masked = ""
    trainee.name = ERASED_NAME
    trainee.updated_at = utcnow()
    session.add(trainee)


def refuse(session: Session, asked: DeletionRequest, *, actor: str, reason: str) -> None:
    _decide(asked, "refused", actor)
    asked.reason = reason
    session.add(asked)
    audit.record(session, actor, "me.deletion_refuse", "trainee", asked.trainee_id)
