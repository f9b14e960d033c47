"""The second factor: TOTP (RFC 6238, pyotp) in an authenticator app, and ten recovery codes.

Who must have one: every privileged account (administrator, security administrator, auditor),
and the staff of a university whose staff the security administrator requires it of; other
staff may choose one. A code is accepted once: the step it belongs to is claimed in the same
statement that checks it is newer than the last one claimed, so neither a replay nor two
requests at once with the same code get in twice.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, func, select

from app.audit import service as audit
from app.auth.models import STAFF, RecoveryCode, User
from app.db import id_of, utcnow
from app.errors import Conflict, Invalid
from app.i18n import N_
from app.security import keys_of
from app.universities.models import University

ISSUER = "Dandelion"
RECOVERY_CODES = 10
# Recovery codes: 12 characters of 32 (60 random bits), grouped by four for typing. So much
# randomness makes a plain salted SHA-256 enough to store them: no dictionary holds them, and
# trying 2**60 is out of reach, where a password needs a slow hash.
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
WRONG_CODE = N_("This code is not right, or it was used already")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    """The secret as a QR code, an <svg> element to put inline in the page (no image request,
    no script: the page's Content-Security-Policy stays as it is)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title, svgclass="qr")
    return Markup(svg)  # noqa: S704 - segno's own markup, the title escaped by segno


def required(session: Session, user: User) -> bool:
    if user.is_privileged:
        return True
    if user.role != STAFF or user.university_id is None:
        return False
    university = session.get(University, user.university_id)
    return bool(university and university.staff_totp_required)


def missing(session: Session, user: User) -> bool:
    """The account must have a second factor and has none yet: it may only enrol."""
    return user.totp_enabled_at is None and required(session, user)


def secret_of(session: Session, user: User) -> str:
    if not user.totp_secret:
        raise ValueError("this account has no second factor")
    return keys_of(session).decrypt(user.totp_secret)


def _step_of(secret: str, code: str, at: float) -> int | None:
    """The 30-second step whose code this is: this one, or one either side (clocks drift)."""
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        moment = at + drift * totp.interval
        if hmac.compare_digest(totp.at(moment).encode(), code.encode()):
            return int(moment) // totp.interval
    return None


def _claim(session: Session, user: User, step: int) -> bool:
    claimed = session.execute(
        update(User)
        .where(
            col(User.id) == user.id,
            or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    user.totp_last_step = step
    return True


def _digits(code: str) -> str:
    return "".join(code.split())


def check_code(session: Session, user: User, code: str) -> bool:
    """A current code from the user's authenticator, accepted once."""
    code = _digits(code)
    if not user.totp_secret or not (len(code) == 6 and code.isdigit()):
        return False
    step = _step_of(secret_of(session, user), code, time.time())
    return step is not None and _claim(session, user, step)


def store_secret(session: Session, user: User, secret: str) -> None:
    """Make the secret the account's second factor (confirmed: see enrol)."""
    user.totp_secret = keys_of(session).encrypt(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None
    session.add(user)
    session.flush()


def enrol(session: Session, user: User, *, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the user shows a first code from their app; returns the
    recovery codes, shown once (audited)."""
    if user.totp_enabled_at is not None:
        raise Conflict(N_("Your second factor is set up already"))
    step = _step_of(secret, _digits(code), time.time())
    if step is None:
        raise Invalid(
            [
                (
                    "code",
                    N_("This code does not match: check your phone's clock and try the next one"),
                )
            ]
        )
    store_secret(session, user, secret)
    _claim(session, user, step)
    codes = new_recovery_codes(session, user)
    audit.record(session, user.actor, "user.totp_enrolled", "user", user.id)
    return codes


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten new single-use codes replacing any earlier ones; only their digests are kept."""
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        for _ in range(RECOVERY_CODES)
    ]
    for code in codes:
        session.add(RecoveryCode(user_id=id_of(user), code_hash=_recovery_digest(user, code)))
    session.flush()
    return ["-".join((c[:4], c[4:8], c[8:])) for c in codes]


def _recovery_digest(user: User, code: str) -> str:
    return hashlib.sha256(f"dandelion-recovery:{user.id}:{code}".encode()).hexdigest()


def use_recovery_code(session: Session, user: User, typed: str) -> bool:
    """A recovery code in place of the app's code: spent at once (audited with how many are
    left)."""
    code = "".join(ch for ch in typed.upper() if ch.isalnum())
    if len(code) != 12 or user.totp_enabled_at is None:
        return False
    spent = session.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user.id,
            col(RecoveryCode.code_hash) == _recovery_digest(user, code),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        return False
    audit.record(
        session,
        user.actor,
        "user.recovery_code_used",
        "user",
        user.id,
        left=recovery_codes_left(session, user),
    )
    return True


def recovery_codes_left(session: Session, user: User) -> int:
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).one()


def check_code_or_recovery(session: Session, user: User, typed: str) -> bool:
    """The second step of a login: a code from the app, or one of the recovery codes."""
    if len(_digits(typed)) == 6 and _digits(typed).isdigit():
        return check_code(session, user, typed)
    return use_recovery_code(session, user, typed)


def _remove(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.add(user)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))


def reset(session: Session, user: User, *, actor: User) -> None:
    """The security administrator removes someone's second factor (a lost phone): the account
    enrols again at its next login if it must have one (audited)."""
    if user.totp_enabled_at is None:
        raise Conflict(N_("This account has no second factor"))
    _remove(session, user)
    audit.record(session, actor.actor, "user.totp_reset", "user", user.id)


def turn_off(session: Session, user: User, *, code: str) -> None:
    """A member of staff who chose a second factor turns it off, showing a current code."""
    if required(session, user):
        raise Conflict(N_("Your account must keep its second factor"))
    if not check_code(session, user, code):
        raise Invalid([("code", WRONG_CODE)])
    _remove(session, user)
    audit.record(session, user.actor, "user.totp_off", "user", user.id)
