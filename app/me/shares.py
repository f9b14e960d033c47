"""Share copies of a certificate, as 学信网's verification reports: a link for one purpose that
verifies until a date, revocable by the trainee. Tokens are random; only their digest is kept,
so the link is shown once, when it is made."""

import secrets
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.certificates import pdf
from app.certificates.models import Certificate
from app.db import id_of, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.me.models import SHARE_DAYS, CertificateShare, ShareCreate
from app.security import token_digest

# What a share's page says, beside the certificate's own verdict.
VALID, EXPIRED, REVOKED, WITHDRAWN = "valid", "expired", "revoked", "certificate_withdrawn"
UNCHECKED = "cannot_be_checked"  # the record no longer carries a valid signature


def share_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/share/{token}"


def create(
    session: Session, cert: Certificate, *, trainee_id: int, data: ShareCreate, today: date
) -> tuple[CertificateShare, str]:
    """A new share of the trainee's certificate and its token (never stored: shown once)."""
    if cert.status != "issued":
        raise Conflict(N_("This certificate is no longer valid: it cannot be shared"))
    if not today <= data.valid_until <= today + timedelta(days=SHARE_DAYS):
        raise Invalid(
            [("valid_until", N_("Choose a date from today to %(days)s days ahead"))],
            params={"days": SHARE_DAYS},
        )
    missing = pdf.unprintable_chars(data.purpose)
    if missing:
        raise Invalid(
            [("purpose", pdf.UnprintableText.message)], params=pdf.UnprintableText(missing).params
        )
    token = secrets.token_urlsafe(24)
    share = CertificateShare(
        token_hash=token_digest(token),
        certificate_id=id_of(cert),
        trainee_id=trainee_id,
        purpose=data.purpose,
        valid_until=data.valid_until,
    )
    session.add(share)
    session.flush()
    audit.record(
        session,
        f"trainee:{trainee_id}",
        "share.create",
        "certificate_share",
        share.id,
        certificate=cert.serial,
        valid_until=data.valid_until,
    )
    return share, token


def of_trainee(session: Session, trainee_id: int) -> list[tuple[CertificateShare, Certificate]]:
    return list(
        session.exec(
            select(CertificateShare, Certificate)
            .join(Certificate, col(CertificateShare.certificate_id) == Certificate.id)
            .where(CertificateShare.trainee_id == trainee_id)
            .order_by(col(CertificateShare.id).desc())
        )
    )


def revoke(session: Session, *, trainee_id: int, share_id: int) -> CertificateShare:
    share = session.get(CertificateShare, share_id)
    if share is None or share.trainee_id != trainee_id:
        raise NotFound(N_("No share copy of yours has this number"))
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        session.add(share)
        audit.record(
            session, f"trainee:{trainee_id}", "share.revoke", "certificate_share", share.id
        )
    return share


def by_token(session: Session, token: str) -> tuple[CertificateShare, Certificate]:
    row = session.exec(
        select(CertificateShare, Certificate)
        .join(Certificate, col(CertificateShare.certificate_id) == Certificate.id)
        .where(CertificateShare.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise NotFound(N_("No share copy has this address"))
    return row


def state_of(share: CertificateShare, cert: Certificate, today: date) -> str:
    """Revoked and expired first: a share that ended says so, whatever the certificate is."""
    if share.revoked_at is not None:
        return REVOKED
    if share.valid_until < today:
        return EXPIRED
    if cert.status != "issued":
        return WITHDRAWN
    return VALID
