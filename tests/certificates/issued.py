"""Certificates issued, revoked and reissued the way staff do it: through HTTP."""

import io
from urllib.parse import parse_qs, urlsplit

from pypdf import PdfReader
from sqlmodel import Session, select

from app.certificates.models import Certificate
from tests.factories import csrf_of


def issue(client, course) -> None:
    page = f"/staff/courses/{course.code}"
    client.post(
        f"/staff/courses/{course.code}/certificates",
        data={"csrf_token": csrf_of(client, page)},
        follow_redirects=True,
    )


def by_holder(session: Session) -> dict[str, Certificate]:
    session.expire_all()
    return {c.holder_name: c for c in session.exec(select(Certificate).order_by(Certificate.id))}


def get(session: Session, serial: str) -> Certificate:
    session.expire_all()
    return session.exec(select(Certificate).where(Certificate.serial == serial)).one()


def revoke(client, serial: str, reason: str, **kwargs):
    token = csrf_of(client, f"/staff/certificates/{serial}")
    return client.post(
        f"/staff/certificates/{serial}/revoke",
        data={"csrf_token": token, "reason": reason},
        **kwargs,
    )


def reissue(client, serial: str, **kwargs):
    token = csrf_of(client, f"/staff/certificates/{serial}")
    return client.post(
        f"/staff/certificates/{serial}/reissue", data={"csrf_token": token}, **kwargs
    )


def qr_link(pdf: bytes) -> str:
    """The address the printed QR code carries, as the PDF's link over it holds it."""
    for annotation in PdfReader(io.BytesIO(pdf)).pages[0].get("/Annots") or []:
        uri = str(annotation.get_object().get("/A", {}).get("/URI", ""))
        if "/verify/" in uri:
            return uri
    raise AssertionError("no verification link in the PDF")


def qr_query(pdf: bytes) -> dict[str, str]:
    """k and s, exactly as a phone scanning the printed code would send them."""
    return {k: v[0] for k, v in parse_qs(urlsplit(qr_link(pdf)).query).items()}
