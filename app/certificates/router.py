import base64
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import clock
from app.auth import throttle
from app.auth.deps import ApiPrincipal, StaffUser, load_user
from app.auth.throttle import Limit
from app.certificates import serials, service
from app.certificates.deps import ApiOwnCertificate, SerialCertificate
from app.certificates.models import CertificateLookup
from app.courses.deps import ApiOwnCourse, OwnCourse
from app.db import SessionDep, id_of
from app.errors import Forbidden, NotFound
from app.i18n import N_, gettext
from app.trainees.validators import mask_name
from app.web import FormDep, app_keys, form_values, redirect, render, templates, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["certificates"])
templates.env.filters["serial"] = serials.format_serial  # as printed: DL26-3PB0-AMYY-M
LINK_MINUTES = 30
SERIAL_ECHO = 40  # a mistyped serial is shown back, but not a pasted page of text
# k and s as a QR code carries them; lists, so that a repeated one is noticed, not picked from.
ScanPart = Annotated[
    list[str], Query(default_factory=list, description="from the certificate's QR code")
]
VERDICTS = {
    service.VALID: N_("Valid certificate"),
    service.ON_RECORD: N_("On record: issued, not revoked"),
    service.REVOKED: N_("This certificate was revoked"),
    service.RECORD_MISMATCH: N_("This certificate's signature does not match"),
    service.NOT_VALID_AS_SCANNED: N_("Not valid as scanned: contact the issuer"),
}


def _pdf_response(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _link_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_keys(request).link_key.hex(), salt="certificate-download")


@router.post("/staff/courses/{code}/certificates", name="certificates:issue")
def issue(request: Request, session: SessionDep, user: StaffUser, course: OwnCourse, form: FormDep):
    settings = request.app.state.settings
    issued, refused, waiting = service.issue_for_course(
        session,
        course,
        actor=user.actor,
        public_url=settings.public_url,
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    target = str(request.url_for("courses:staff_detail", code=course.code))
    names = "; ".join(f"{r.holder} ({r.params.get('chars', '')})" for r in refused)
    message = {
        (False, False): N_("Certificates issued: %(issued)s"),
        (False, True): N_(
            "Certificates issued: %(issued)s; %(waiting)s more are waiting: press the button again"
        ),
        (True, False): N_(
            "Certificates issued: %(issued)s. Refused, the fonts cannot print: %(names)s"
        ),
        (True, True): N_(
            "Certificates issued: %(issued)s; %(waiting)s more are waiting: press the "
            "button again. Refused, the fonts cannot print: %(names)s"
        ),
    }[(bool(refused), bool(waiting))]
    return redirect(
        request, target, flash=message, issued=len(issued), waiting=waiting, names=names
    )


@router.get("/staff/courses/{code}/certificates.pdf", name="certificates:merged")
def merged(request: Request, session: SessionDep, course: OwnCourse):
    certs = [c for c in service.list_for_course(session, id_of(course)) if c.status == "issued"]
    if not certs:
        raise NotFound(N_("This course has no certificates yet"))
    content = service.merged_pdf(certs, request.app.state.settings.data_dir)
    return _pdf_response(content, f"{course.code}-certificates.pdf")


@router.get("/certificates/{serial}.pdf", name="certificates:pdf")
def download(request: Request, cert: SerialCertificate, t: str = ""):
    user = request.state.user
    allowed = user is not None and (user.is_admin or user.university_id == cert.university_id)
    if not allowed and t:
        try:
            allowed = _link_signer(request).loads(t, max_age=LINK_MINUTES * 60) == cert.serial
        except BadSignature:
            allowed = False
    if not allowed:
        raise Forbidden(N_("This download link has expired: look up your certificates again"))
    return _pdf_response(
        service.pdf_bytes(cert, request.app.state.settings.data_dir), f"{cert.serial}.pdf"
    )


@router.get("/certificates/find", name="certificates:find")
def find_page(request: Request):
    return render(request, "certificates/find.html", {"values": {}, "errors": {}, "found": None})


@router.post("/certificates/find", name="certificates:find_post")
def find(request: Request, session: SessionDep, form: FormDep):
    data, errors = validate_form(CertificateLookup, form, ["id_number", "mobile"])
    found = None
    if data is not None:
        ip = throttle.client_address(request)
        # Every look-up counts, found or not: an ID number plus guessed mobiles must not be
        # tried over and over, and a right guess must not be told apart by a different answer.
        # Per ID number over all addresses it counts addresses, so that one address cannot
        # lock the holder out of their own certificates by trying often.
        throttle.attempt(
            session,
            [
                ("find-id-ip", f"{data.id_number}|{ip}", 10),
                Limit("find-id", data.id_number, 10, by_address=True),
                ("find-ip", ip, 60),
            ],
            source=ip,
        )
        found = service.find_for_trainee(session, id_number=data.id_number, mobile=data.mobile)
        if found is None:
            errors = {"__all__": gettext("No certificates match this ID number and mobile number")}
    links = {c.serial: _link_signer(request).dumps(c.serial) for c in found or []}
    # Never echo the ID number back into the page.
    return render(
        request,
        "certificates/find.html",
        {"values": form_values(form, ["mobile"]), "errors": errors, "found": found, "links": links},
        status_code=422 if errors else 200,
    )


@router.get("/verify", name="certificates:verify_form")
def verify_form(request: Request, session: SessionDep, serial: str = ""):
    if serial:
        return verify(request, session, serial, k=[], s=[])
    return render(request, "certificates/verify.html", {"cert": None, "error": None, "serial": ""})


@router.get("/verify/{serial}", name="certificates:verify")
def verify(request: Request, session: SessionDep, serial: str, k: ScanPart, s: ScanPart):
    scan = _scan(k, s)
    try:
        cert = service.get_by_serial(session, serial)
    except (serials.InvalidSerial, NotFound) as exc:
        message = exc.message if isinstance(exc, NotFound) else str(exc)
        return render(
            request,
            "certificates/verify.html",
            {
                "cert": None,
                "error": gettext(message),
                "serial": serial[:SERIAL_ECHO],
                "verdict": service.NOT_VALID_AS_SCANNED if scan else None,
                "headline": VERDICTS[service.NOT_VALID_AS_SCANNED],
            },
            status_code=404,
        )
    verdict = service.verdict(cert, scan, app_keys(request))
    return render(
        request,
        "certificates/verify.html",
        {
            "cert": cert,
            "error": None,
            "serial": cert.serial,
            "holder": mask_name(cert.holder_name),
            "verdict": verdict,
            "headline": VERDICTS[verdict],
        },
        status_code=422 if verdict == service.NOT_VALID_AS_SCANNED else 200,
    )


def _scan(k: list[str], s: list[str]) -> service.Scan | None:
    """What a QR code adds to the address; None when the serial was typed by hand."""
    if not k and not s:
        return None
    # A genuine code names one key and one signature: of two, which would count is a guess.
    if len(k) != 1 or len(s) != 1:
        return service.Scan("", "")
    return service.Scan(k[0], s[0])


@api.post("/courses/{code}/certificates")
def issue_api(request: Request, session: SessionDep, principal: ApiPrincipal, course: ApiOwnCourse):
    settings = request.app.state.settings
    issued, refused, waiting = service.issue_for_course(
        session,
        course,
        actor=principal.actor,
        public_url=settings.public_url,
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    return {
        "issued": [c.serial for c in issued],
        "waiting": waiting,
        "refused": [
            {"holder": mask_name(r.holder), "message": gettext(r.message, **r.params)}
            for r in refused
        ],
    }


@api.get("/certificates/{serial}")
def certificate_json(request: Request, cert: SerialCertificate, k: ScanPart, s: ScanPart):
    """The record and the verdict of the verification page; pass k and s, as a certificate's
    QR code carries them, to check that code: one that does not check out answers 422."""
    verdict = service.verdict(cert, _scan(k, s), app_keys(request))
    body = {
        "serial": cert.serial,
        "verdict": verdict,
        "status": cert.status,
        "holder": mask_name(cert.holder_name),
        "course": cert.course_title,
        "course_code": cert.course_code,
        "university": cert.university_name,
        "hours": float(cert.hours),
        "completed_on": cert.completed_on,
        # Never the signature: anyone could then turn a known serial into a "valid" scan.
        # The paper's QR code carries it; the key to check it with is at /keys.
        "issued_on": cert.issued_on,
        "key_id": cert.key_id,
        "revoked_reason": cert.revoke_reason,
    }
    if verdict != service.NOT_VALID_AS_SCANNED:
        return body
    body["errors"] = [{"field": "s", "message": gettext(VERDICTS[verdict])}]
    return JSONResponse(jsonable_encoder(body), status_code=422)


@api.get("/certificates/{serial}/pdf")
def certificate_pdf(request: Request, cert: ApiOwnCertificate):
    return _pdf_response(
        service.pdf_bytes(cert, request.app.state.settings.data_dir), f"{cert.serial}.pdf"
    )


@api.get("/keys")
def public_keys(request: Request):
    """The certificate signing keys, so a certificate can be checked without trusting this site."""
    # The very keys verification accepts, so what is published and what is believed agree.
    return {
        "algorithm": "Ed25519",
        "signed_fields": "serial|holder_name|course_code|"
        "university_name|hours|completed_on|issued_on",
        "keys": [
            {"key_id": key_id, "public_key": _raw_b64(key)}
            for key_id, key in service.published_keys(app_keys(request)).items()
        ],
    }


def _raw_b64(key) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
