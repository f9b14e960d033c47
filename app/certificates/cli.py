"""`dandelion verify SERIAL_OR_PDF_FILE`: check a certificate without the web server.

The check reads the installation's database (DANDELION_DATABASE_URL) and data folder directly,
so it needs no network and trusts no page. It uses the database rather than a saved keys file
because a signature covers the record's fields (holder, course, hours, dates), which only the
record holds exactly: reading them back out of a PDF's text would be a second, fragile source.
Against the database it checks all three things that can be wrong: the QR code's signature,
under the published keys (every key ever used, so certificates signed before a rotation
verify); the file, byte for byte, by its SHA-256 against the one stored at issue; the status.
"""

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import typer

app = typer.Typer()

VALID, REVOKED, SUPERSEDED, TAMPERED, UNCHECKED = 0, 1, 3, 4, 5
OUTCOMES = {
    VALID: "valid",
    REVOKED: "revoked",
    SUPERSEDED: "superseded",
    TAMPERED: "tampered or forged",
    UNCHECKED: "cannot be checked",
}
EPILOG = (
    "Exit codes: 0 valid; 1 revoked; 2 wrong usage; 3 superseded by a reissue (the new serial "
    "is named); 4 tampered or forged (the QR code's signature does not match a published key, "
    "the file differs from the PDF issued, or no certificate has its serial); 5 cannot be "
    "checked (not a certificate PDF, the stored PDF is missing, the database is unreachable)."
)
# As printed (DL26-3PB0-AMYY-M) or as a URL carries it (DL263PB0AMYYM).
_PRINTED_SERIAL = re.compile(r"DL\d{2}-?[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]")


@dataclass
class Report:
    outcome: int
    serial: str = ""
    lines: list[str] = field(default_factory=list)


@app.command("verify", epilog=EPILOG)
def verify(
    target: str = typer.Argument(..., metavar="SERIAL_OR_PDF_FILE", help="A PDF file or a serial"),
) -> None:
    """Check a certificate offline: a PDF file (its QR code's signature and its bytes against the
    record) or a serial (the PDF stored for it). Says valid, revoked, superseded or tampered."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.config import Settings
    from app.db import sessions_for

    settings = Settings()
    path = Path(target)
    try:
        with sessions_for(settings)() as session:
            if path.is_file():
                report = check_pdf(session, path.read_bytes())
            elif target.lower().endswith(".pdf"):
                report = Report(UNCHECKED, lines=[f"no such file: {target}"])
            else:
                report = check_serial(session, settings.data_dir, target)
    except SQLAlchemyError as exc:
        report = Report(UNCHECKED, lines=[f"cannot read the database: {type(exc).__name__}"])
    _print(report)
    raise typer.Exit(report.outcome)


def check_serial(session, data_dir: Path, raw: str) -> Report:
    """The PDF stored for a serial, checked as a file someone handed in would be."""
    from app.certificates import serials, service
    from app.errors import NotFound

    try:
        cert = service.get_by_serial(session, raw)
    except serials.InvalidSerial as exc:
        return Report(UNCHECKED, lines=[str(exc)])
    except NotFound:
        return Report(TAMPERED, raw, ["no certificate has this serial number: it may be forged"])
    try:
        content = (data_dir / cert.pdf_path).read_bytes()
    except OSError:
        return Report(UNCHECKED, cert.serial, [f"the stored PDF is missing: {cert.pdf_path}"])
    return check_pdf(session, content)


def check_pdf(session, content: bytes) -> Report:
    from app.certificates import service, verification
    from app.errors import NotFound
    from app.trainees.validators import mask_name

    serial, scan = _read_pdf(content)
    if not serial:
        return Report(UNCHECKED, lines=["no certificate serial or QR code found in this file"])
    try:
        cert = service.get_by_serial(session, serial)
    except (ValueError, NotFound):
        return Report(TAMPERED, serial, ["no certificate has this serial number: it may be forged"])
    published = verification.published_keys(session)
    lines = [
        f"holder {mask_name(cert.holder_name)}, {cert.course_title} "
        f"({cert.course_code}), {cert.university_name}, issued {cert.issued_on}"
    ]
    if not verification.verify_signature(cert, published):
        lines.append(f"the record's signature does not match published key {cert.key_id}")
        return Report(TAMPERED, cert.serial, lines)
    if scan is None:
        lines.append("QR code: no signature found in the file (printed before QR links)")
    elif verification.signature_matches(
        cert, key_id=scan.key_id, signature=scan.signature, published=published
    ):
        lines.append(f"QR code: signed by published key {scan.key_id}")
    else:
        lines.append("QR code: its signature does not match a published key for this record")
        return Report(TAMPERED, cert.serial, lines)
    if hashlib.sha256(content).hexdigest() != cert.pdf_sha256:
        lines.append("file: differs from the PDF issued (SHA-256 does not match)")
        return Report(TAMPERED, cert.serial, lines)
    lines.append(f"file: identical to the PDF issued (SHA-256 {cert.pdf_sha256[:16]}…)")
    return _status(session, cert, lines)


def _status(session, cert, lines: list[str]) -> Report:
    from app import clock
    from app.certificates import verification

    if cert.status == "revoked":
        when = clock.in_china(cert.revoked_at) if cert.revoked_at else None
        lines.append(f"revoked on {when:%Y-%m-%d}: {cert.revoke_reason}")
        return Report(REVOKED, cert.serial, lines)
    if cert.status == "superseded":
        new = verification.superseded_by(session, cert)
        lines.append(f"superseded by {new.serial if new else 'a reissue'}")
        return Report(SUPERSEDED, cert.serial, lines)
    return Report(VALID, cert.serial, lines)


def _read_pdf(content: bytes):
    """The serial and the QR code's key id and signature: from the code's link annotation, or
    only the serial from the text (a PDF printed before the code was a link too)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from app.certificates import verification

    try:
        reader = PdfReader(io.BytesIO(content))
        for page in reader.pages:
            for annotation in page.get("/Annots") or []:
                uri = str(annotation.get_object().get("/A", {}).get("/URI", ""))
                parts = urlsplit(uri)
                if "/verify/" in parts.path:
                    query = parse_qs(parts.query)
                    k, s = query.get("k", []), query.get("s", [])
                    scan = verification.Scan(k[0], s[0]) if len(k) == len(s) == 1 else None
                    return parts.path.rsplit("/", 1)[-1], scan
        text = "".join(page.extract_text() for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError):  # damaged beyond reading
        return "", None
    found = _PRINTED_SERIAL.search(text)
    return (found.group(0) if found else ""), None


def _print(report: Report) -> None:
    ok = report.outcome == VALID
    head = f"{report.serial or '?'}: {OUTCOMES[report.outcome]}"
    typer.secho(head, fg="green" if ok else "red", bold=True)
    for line in report.lines:
        typer.echo(f"  {line}")
