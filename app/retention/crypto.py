"""Which algorithm family data at rest is under, and what the app does at start when
DANDELION_CRYPTO names the other one."""

from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from app.auth.models import User
from app.certificates.environment import RefusedToStart
from app.completions.models import CompletionBatch
from app.config import Settings
from app.db import utcnow
from app.enrollments.models import Enrollment
from app.retention.models import CryptoState
from app.security import STANDARD
from app.trainees.models import Trainee


def recorded(session: Session) -> str:
    """The family the stored data is under. No row (a PostgreSQL test database emptied):
    standard, what every installation stored before migration 0020."""
    state = session.get(CryptoState, 1)
    return state.algorithm if state else STANDARD


def record(session: Session, algorithm: str) -> None:
    state = session.get(CryptoState, 1) or CryptoState(id=1, algorithm=algorithm)
    state.algorithm, state.changed_at = algorithm, utcnow()
    session.add(state)
    session.flush()


def holds_secrets(session: Session) -> bool:
    """Anything sealed or hashed stored yet (an export file is only made from these rows)."""
    if session.exec(select(User.id).where(col(User.totp_secret).is_not(None))).first():
        return True
    return any(
        session.exec(select(model.id).limit(1)).first() is not None
        for model in (Trainee, Enrollment, CompletionBatch)
    )


def mismatch(configured: str, stored: str) -> str:
    return (
        f"DANDELION_CRYPTO is {configured} but the data at rest is under the {stored} "
        f"algorithms: stop the app and the workers and run `dandelion crypto migrate` "
        f"(with DANDELION_CRYPTO={configured}) to re-encrypt it."
    )


def check_at_start(
    settings: Settings, sessions: sessionmaker[Session], *, warn: Callable[[str], None]
) -> None:
    """Raise RefusedToStart in production when the data is under the other family; elsewhere
    warn (new values are sealed as configured and old ones still read). An installation that
    holds nothing yet simply takes the configured family."""
    with sessions() as session:
        try:
            stored = recorded(session)
        except DBAPIError:  # not migrated yet: `dandelion serve` upgrades, /readyz tells
            return
        if stored == settings.crypto:
            return
        if not holds_secrets(session):
            record(session, settings.crypto)
            session.commit()
            return
    if settings.environment == "production":
        raise RefusedToStart(mismatch(settings.crypto, stored))
    warn(mismatch(settings.crypto, stored))
