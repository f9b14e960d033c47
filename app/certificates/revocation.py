"""Revoking and reissuing certificates. Neither changes an issued PDF: a revocation marks the
record, and a reissue prints a new certificate, with a new serial, that names the one it
replaces (status "superseded" from then on).

A revoked certificate is not reissued: revocation says the paper should not exist (a completion
recorded in error, say), while a reissue replaces a paper that is right but needs printing
again (after a name correction). A superseded one is neither revoked nor reissued again:
its replacement is the certificate that counts.
"""

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app import clock
from app.audit import service as audit
from app.certificates import pdf, serials, service, verification
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.db import utcnow
from app.errors import Conflict
from app.fields import PlainText
from app.i18n import N_

REASON_MAX = 200  # certificate.revoke_reason's length


def _given(text: str) -> str:
    if not text:
        raise ValueError(N_("Say why the certificate is revoked"))
    return text


class RevocationCreate(BaseModel):
    """Why a certificate is revoked: shown to anyone who verifies it, so plain words."""

    reason: Annotated[PlainText, AfterValidator(_given)] = Field(max_length=REASON_MAX)


class ReissueCreate(BaseModel):
    """A reissue asks nothing: the new certificate prints what the records say now."""


def revoke(session: Session, cert: Certificate, *, reason: str, actor: str) -> Certificate:
    """Mark an issued certificate revoked; the caller commits. Its PDF stays as it was."""
    # Conditional, so that two clerks revoking at once get one revocation and one 409.
    changed = session.execute(
        update(Certificate)
        .where(col(Certificate.id) == cert.id, col(Certificate.status) == "issued")
        .values(status="revoked", revoked_at=utcnow(), revoked_by=actor, revoke_reason=reason)
    )
    session.refresh(cert)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise _not_issued(session, cert, reissue=False)
    audit.record(
        session,
        actor,
        "certificate.revoke",
        "certificate",
        cert.id,
        serial=cert.serial,
        reason=reason,
    )
    return cert


def reissue(
    session: Session,
    cert: Certificate,
    *,
    actor: str,
    public_url: str,
    data_dir: Path,
    today: date,
) -> Certificate:
    """Print a new certificate from the records as they are now (the trainee's name after a
    correction, say) that supersedes cert; the caller commits. One PDF is printed in the
    request: a fraction of a second, like a download."""
    if cert.status != "issued":
        raise _not_issued(session, cert, reissue=True)
    completion = session.get_one(Completion, cert.completion_id)
    try:
        new = service.print_current(
            session, completion, public_url=public_url, data_dir=data_dir, today=today
        )
    except pdf.UnprintableText as exc:
        raise Conflict(exc.message, params=exc.params) from exc
    if new is None:
        raise Conflict(N_("The completion record changed while the certificate printed: try again"))
    superseded = session.execute(
        update(Certificate)
        .where(col(Certificate.id) == cert.id, col(Certificate.status) == "issued")
        .values(status="superseded")
    )
    session.refresh(cert)
    if superseded.rowcount != 1:  # type: ignore[attr-defined]
        raise _not_issued(session, cert, reissue=True)
    new.supersedes_id = cert.id
    session.add(new)
    try:
        session.flush()
    except IntegrityError as exc:  # a job issued this completion again meanwhile
        raise Conflict(
            N_("This certificate is being reissued right now. Reload the page in a moment.")
        ) from exc
    audit.record(
        session,
        actor,
        "certificate.reissue",
        "certificate",
        new.id,
        serial=new.serial,
        supersedes=cert.serial,
    )
    return new


def _not_issued(session: Session, cert: Certificate, *, reissue: bool) -> Conflict:
    """Why a certificate that is no longer valid cannot be revoked or reissued."""
    if cert.status == "revoked":
        revoked_on = clock.in_china(cert.revoked_at).date() if cert.revoked_at else ""
        message = (
            N_(
                "This certificate was revoked on %(date)s, and a revoked certificate is not "
                "reissued. A reissue replaces a certificate that is still valid, after a name "
                "correction for example."
            )
            if reissue
            else N_("This certificate was already revoked on %(date)s")
        )
        return Conflict(message, params={"date": str(revoked_on)})
    replacement = verification.superseded_by(session, cert)
    return Conflict(
        N_("This certificate was already replaced by %(serial)s: that one is the valid one"),
        params={"serial": serials.format_serial(replacement.serial) if replacement else "—"},
    )
