"""Contact details taken off enrollments: the retention job's and a trainee's deletion request's.

An enrollment keeps what the records and the goal counts rely on (trainee, course, employer,
consent, status) and loses its mobile and email. The mobile's column holds the encryption of
an empty value rather than nothing: every reader of it (the sign-in of app/me, "already
enrolled" in app/enrollments) decrypts as before and finds a mobile nobody can give. An
anonymised enrollment is known by its empty mask, so doing it again changes nothing.
"""

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col

from app.db import among
from app.enrollments.models import Enrollment
from app.security import keys_of

ERASED_MASK = ""
_CHUNK = 1000


def anonymise_contacts(session: Session, enrollment_ids: Iterable[int]) -> int:
    """Erase the mobile and email of these enrollments; returns how many still had them.
    Flushes only: the caller commits, and audits the count (never the numbers)."""
    erased = keys_of(session).encrypt("")  # one value for all: it hides nothing
    changed = 0
    ids = list(dict.fromkeys(enrollment_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        result = session.execute(
            update(Enrollment)
            .where(among(session, col(Enrollment.id), chunk), is_identifiable())
            .values(mobile_encrypted=erased, mobile_masked=ERASED_MASK, email_encrypted=None)
            # Enrollments already loaded in this session show their contact erased too.
            .execution_options(synchronize_session="fetch")
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed


def is_identifiable():
    """Enrollments whose contact details are still there."""
    return col(Enrollment.mobile_masked) != ERASED_MASK
