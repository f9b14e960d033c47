"""Verifying certificates: the published signing keys, signatures, and what a verifier is told.

A verifier tells three states apart (STATE_OF): the certificate is valid; it was revoked or
replaced by a reissue; or it cannot be checked, which is what a forgery looks like (a code
that no published key signed, a serial that was never issued).
"""

import base64
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, Field
from sqlalchemy import event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.certificates.models import Certificate, SigningKey
from app.db import utcnow
from app.fields import PlainText
from app.security import Keys, key_id_of, keys_of, raw_public_key
from app.trainees.validators import normalize_name

# Verdicts, as the JSON twin of the verification page spells them.
VALID, ON_RECORD = "valid", "on_record"
REVOKED, SUPERSEDED = "revoked", "superseded"
NOT_VALID_AS_SCANNED, RECORD_MISMATCH = "not_valid_as_scanned", "record_signature_mismatch"
UNKNOWN_SERIAL = "unknown_serial"  # well formed, check character right, never issued

STATE_VALID, STATE_WITHDRAWN, STATE_UNCHECKED = "valid", "no_longer_valid", "cannot_be_checked"
STATE_OF = {
    VALID: STATE_VALID,
    ON_RECORD: STATE_VALID,
    REVOKED: STATE_WITHDRAWN,
    SUPERSEDED: STATE_WITHDRAWN,
    NOT_VALID_AS_SCANNED: STATE_UNCHECKED,
    RECORD_MISMATCH: STATE_UNCHECKED,
    UNKNOWN_SERIAL: STATE_UNCHECKED,
}
ALGORITHM = "Ed25519"
# An Ed25519 signature is 64 bytes: 86 characters of unpadded URL-safe base64.
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{86}")


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    public_key: Ed25519PublicKey
    created_at: datetime | None  # None: derivable, but it has signed nothing here yet
    retired_at: datetime | None

    @property
    def public_key_b64(self) -> str:
        return b64(raw_public_key(self.public_key))


Published = dict[str, PublishedKey]


def canonical_fields(c: Certificate) -> str:
    """What the signature covers: anyone holding the public key can check these exact fields."""
    return "|".join(
        [
            c.serial,
            c.holder_name,
            c.course_code,
            c.university_name,
            f"{c.hours:.1f}",
            c.completed_on.isoformat(),
            c.issued_on.isoformat(),
        ]
    )


SIGNED_FIELDS = "serial|holder_name|course_code|university_name|hours|completed_on|issued_on"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def published_keys(session: Session) -> Published:
    """The keys a certificate may name, by key id, oldest first: every key the signing_key table
    publishes, and every generation this installation's secret derives up to the current one
    (so an old certificate verifies even before the first signing of a new generation wrote
    its row). A row keeps verifying after the secret derives it no longer."""
    found = {
        key_id: PublishedKey(key_id, key, None, None)
        for key_id, key in keys_of(session).signing_keys().items()
    }
    for row in session.exec(select(SigningKey).order_by(col(SigningKey.created_at))):
        key = _public_key(row.public_key)
        if key is not None and key_id_of(key) == row.key_id:  # a row must name its own key
            found[row.key_id] = PublishedKey(row.key_id, key, row.created_at, row.retired_at)
    return found


def _public_key(text: str) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text + "=="))
    except ValueError:
        return None


def publish_current_key(session: Session, keys: Keys) -> None:
    """The signing key's public half, in the table that GET /api/v1/keys lists, written in the
    transaction of the first certificate it signs (see _publish_before_flush). Its first row
    retires the keys before it; earlier generations that signed certificates here are written
    too, so the table alone lists every key ever used."""
    if session.get(SigningKey, keys.key_id) is not None:
        return
    now = utcnow()
    if not _insert_key(session, keys.key_id, keys.public_key, now, retired_at=None):
        return  # another transaction wrote it first
    session.connection().execute(
        update(SigningKey)
        .where(col(SigningKey.key_id) != keys.key_id, col(SigningKey.retired_at).is_(None))
        .values(retired_at=now)
    )
    used = set(session.exec(select(Certificate.key_id).distinct()))
    for key_id, key in keys.signing_keys().items():
        if key_id != keys.key_id and key_id in used:
            _insert_key(session, key_id, key, now, retired_at=now)


def _insert_key(session: Session, key_id: str, key, now: datetime, *, retired_at) -> bool:
    """Insert unless the row is there (two instances may sign their first certificate at once)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "key_id": key_id,
        "public_key": b64(raw_public_key(key)),
        "created_at": now,
        "retired_at": retired_at,
    }
    table = SigningKey.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 rows for INSERT ... ON CONFLICT.
    inserted = session.connection().execute(statement.returning(table.c.key_id)).first()
    return inserted is not None


@event.listens_for(OrmSession, "before_flush")
def _publish_before_flush(session: OrmSession, _context, _instances) -> None:
    # Whichever code signs a certificate (a job, a reissue), the key is published in the same
    # transaction as the certificate: a committed certificate never names an unlisted key.
    keys = session.info.get("keys")
    if keys is None:
        return
    if any(isinstance(o, Certificate) and o.key_id == keys.key_id for o in session.new):
        publish_current_key(session, keys)  # type: ignore[arg-type]


def _signature_bytes(text: str) -> bytes | None:
    if not _SIGNATURE.fullmatch(text):
        return None
    raw = base64.urlsafe_b64decode(text + "==")
    # The last character carries 4 spare bits, so several spellings decode alike: only ours
    # counts, or a flipped character could still "verify".
    return raw if b64(raw) == text else None


def signature_matches(c: Certificate, *, key_id: str, signature: str, published: Published) -> bool:
    """Whether signature, under the published key that key_id names, covers c's fields.

    The key must also be the one c records: a certificate is signed once, by one key. Key ids
    and signatures are public (the API lists them), so plain comparisons leak nothing."""
    key, raw = published.get(key_id), _signature_bytes(signature)
    if key is None or raw is None or key_id != c.key_id:
        return False
    try:
        key.public_key.verify(raw, canonical_fields(c).encode())
    except InvalidSignature:
        return False
    return True


def verify_signature(c: Certificate, published: Published) -> bool:
    return signature_matches(c, key_id=c.key_id, signature=c.signature, published=published)


@dataclass(frozen=True)
class Scan:
    """What a scanned QR code carries besides the serial; empty strings when it was garbled."""

    key_id: str
    signature: str


def verdict(c: Certificate, scan: Scan | None, published: Published) -> str:
    """What the verification page says first. A code that does not check out comes before
    anything the record says: the paper in the reader's hand is what is being verified."""
    if scan is not None and not signature_matches(
        c, key_id=scan.key_id, signature=scan.signature, published=published
    ):
        return NOT_VALID_AS_SCANNED
    if not verify_signature(c, published):
        return RECORD_MISMATCH
    if c.status == "revoked":
        return REVOKED
    if c.status == "superseded":
        return SUPERSEDED
    # Typed by hand, a serial only shows that a certificate with this serial exists.
    return VALID if scan is not None else ON_RECORD


def superseded_by(session: Session, c: Certificate) -> Certificate | None:
    """The reissue that replaced c, if one did."""
    if c.status != "superseded":
        return None
    return session.exec(select(Certificate).where(Certificate.supersedes_id == c.id)).first()


def supersedes(session: Session, c: Certificate) -> Certificate | None:
    return session.get(Certificate, c.supersedes_id) if c.supersedes_id else None


def name_matches(c: Certificate, typed: str) -> bool:
    """Whether a name typed from the paper is the printed one, spelled as names are stored
    (full-width letters, spaces and the middle dot's look-alikes forgiven; Latin case too)."""
    try:
        name = normalize_name(typed)
    except ValueError:
        return False
    return hmac.compare_digest(name.casefold().encode(), c.holder_name.casefold().encode())


class NameCheck(BaseModel):
    """A full name typed from the paper, to compare with the printed one."""

    name: Annotated[PlainText, Field(max_length=60)]
