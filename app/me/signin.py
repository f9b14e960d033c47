"""A trainee signs in with their ID number, the mobile of one of their enrollments and a
one-time code sent to that mobile; the session it opens is short and ends when left idle."""

import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.db import id_of, utcnow
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment
from app.me.models import CODE_DIGITS, TraineeCode, TraineeSession
from app.me.sms import SmsSender
from app.security import keys_of, token_digest
from app.trainees import service as trainees
from app.trainees.models import Trainee

log = logging.getLogger("app.me.signin")

CODE_MINUTES = 10
CODE_TRIES = 5  # guesses of one code, right or wrong, before it is void
SESSION_HOURS = 2  # whatever happens; idleness ends it sooner (settings.session_idle_minutes)
# How stale last_seen_at may be: writing it on every page would make every read a write.
SEEN_PRECISION = timedelta(minutes=1)


def actor_of(trainee: Trainee) -> str:
    """As the audit log names a trainee acting on their own records."""
    return f"trainee:{trainee.id}"


def matching_trainee(session: Session, *, id_number: str, mobile: str) -> Trainee | None:
    """The trainee of this ID number when one of their enrollments was made with this mobile."""
    trainee = trainees.get_by_id_number(session, id_number)
    if trainee is None:
        return None
    for enrollment in session.exec(select(Enrollment).where(Enrollment.trainee_id == trainee.id)):
        if hmac.compare_digest(
            enrollments.mobile_of(session, enrollment).encode(), mobile.encode()
        ):
            return trainee
    return None


def _code_hash(session: Session, challenge: str, code: str) -> str:
    # Keyed: a million codes are quickly tried against a plain hash, never without the key.
    return keys_of(session).lookup_hash(f"trainee-code|{challenge}|{code}")


def request_code(
    session: Session, *, id_number: str, mobile: str, sender: SmsSender
) -> tuple[str, Callable[[], None] | None]:
    """The challenge the asking browser keeps, and the text message to send once the answer
    has gone (None when the pair matches no enrollment). The caller answers alike either way
    and sends after answering, so neither the answer, nor its timing, nor a failing gateway
    tells anyone whether the pair matched."""
    challenge = secrets.token_urlsafe(32)
    trainee = matching_trainee(session, id_number=id_number, mobile=mobile)
    if trainee is None:
        return challenge, None
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    # A new code voids the earlier ones: only the latest message on the phone counts.
    session.execute(delete(TraineeCode).where(col(TraineeCode.trainee_id) == trainee.id))
    session.add(
        TraineeCode(
            challenge_hash=token_digest(challenge),
            trainee_id=id_of(trainee),
            mobile_hash=keys_of(session).lookup_hash(mobile),
            code_hash=_code_hash(session, challenge, code),
            expires_at=utcnow() + timedelta(minutes=CODE_MINUTES),
        )
    )
    audit.record(session, actor_of(trainee), "me.code_sent", "trainee", trainee.id)
    session.flush()
    return challenge, partial(_send, sender, mobile, code)


def _send(sender: SmsSender, mobile: str, code: str) -> None:
    try:
        sender.send_code(mobile, code, CODE_MINUTES)
    except Exception:
        # After the answer: the trainee sees no code arrive and asks again; the operator reads
        # why here (app.logs masks the mobile should the gateway's message carry it).
        log.exception("the SMS gateway did not take a one-time code")


def use_code(session: Session, *, challenge: str, code: str) -> TraineeCode | None:
    """The code row when code is right for the challenge, used up; None otherwise. Every try
    counts (one atomic UPDATE, so parallel guesses cannot share a try)."""
    row = session.exec(
        select(TraineeCode).where(TraineeCode.challenge_hash == token_digest(challenge))
    ).first()
    if row is None:
        return None
    if row.expires_at <= utcnow():
        session.delete(row)
        return None
    counted = cast(
        CursorResult[Any],
        session.execute(
            update(TraineeCode)
            .where(col(TraineeCode.id) == row.id, col(TraineeCode.tries) < CODE_TRIES)
            .values(tries=TraineeCode.tries + 1)
        ),
    )
    if counted.rowcount != 1:
        session.execute(delete(TraineeCode).where(col(TraineeCode.id) == row.id))
        return None
    if not hmac.compare_digest(row.code_hash, _code_hash(session, challenge, code)):
        return None
    used = cast(
        CursorResult[Any],
        session.execute(delete(TraineeCode).where(col(TraineeCode.id) == row.id)),
    )
    return row if used.rowcount == 1 else None  # used by a parallel request first


def start_session(session: Session, code: TraineeCode) -> str:
    """A session for the code's trainee; the cookie's token is returned, only its digest kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        TraineeSession(
            token_hash=token_digest(token),
            trainee_id=code.trainee_id,
            mobile_hash=code.mobile_hash,
            expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
        )
    )
    audit.record(session, f"trainee:{code.trainee_id}", "me.sign_in", "trainee", code.trainee_id)
    return token


def session_for(
    session: Session, token: str, *, idle_minutes: int
) -> tuple[Trainee, TraineeSession] | None:
    row = session.exec(
        select(TraineeSession).where(TraineeSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at + timedelta(minutes=idle_minutes) <= now:
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at >= SEEN_PRECISION:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    trainee = session.get(Trainee, row.trainee_id)
    return (trainee, row) if trainee is not None else None


def end_session(session: Session, token: str) -> None:
    session.execute(
        delete(TraineeSession).where(col(TraineeSession.token_hash) == token_digest(token))
    )


def end_sessions_of(session: Session, trainee_id: int) -> None:
    session.execute(delete(TraineeSession).where(col(TraineeSession.trainee_id) == trainee_id))
    session.execute(delete(TraineeCode).where(col(TraineeCode.trainee_id) == trainee_id))
