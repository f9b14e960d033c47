"""A share copy of an issued certificate (app/me): the certificate as printed, through the same
design, stamped with the share's purpose and the last day it verifies, its QR code leading to
the share's page. Rendered when asked for and never stored: the share may end any day."""

import dataclasses
from datetime import date
from pathlib import Path

from sqlmodel import Session

from app.certificates import pdf, printing
from app.certificates.models import Certificate


def share_pdf(
    session: Session,
    cert: Certificate,
    *,
    share_url: str,
    purpose: str,
    valid_until: date,
    public_url: str,
    data_dir: Path,
) -> bytes:
    [view] = printing.views_of(session, [cert], public_url, data_dir)
    stamped = dataclasses.replace(
        view, verify_url=share_url, share_purpose=purpose, share_valid_until=valid_until
    )
    return pdf.render_pdf(stamped)
