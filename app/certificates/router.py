from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import clock
from app.auth import throttle
from app.auth.deps import ApiPrincipal, StaffUser, load_user
from app.auth.throttle import Limit
from app.certificates import issuing, serials, service, verification
from app.certificates.deps import ApiOwnCertificate, SerialCertificate
from app.certificates.models import Certificate, CertificateLookup
from app.certificates.verification import NameCheck
from app.courses.deps import ApiOwnCourse, OwnCourse
from app.db import SessionDep, id_of
from app.errors import Forbidden, NotFound
from app.i18n import N_, gettext
from app.jobs import queue
from app.trainees.validators import mask_name
from app.web import FormDep, app_keys, form_values, redirect, render, templates, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["certificates"])
templates.env.filters["serial"] = serials.format_serial  # as printed: DL26-3PB0-AMYY-M
templates.env.filters["local_date"] = lambda value: (
    clock.in_china(value).date().isoformat() if value else "—"
)
LINK_MINUTES = 30
SERIAL_ECHO = 40  # a mistyped serial is shown back, but not a pasted page of text
# k and s as a QR code carries them; lists, so that a repeated one is noticed, not picked from.
ScanPart = Annotated[
    list[str], Query(default_factory=list, description="from the certificate's QR code")
]
VERDICTS = {
    verification.VALID: N_("Valid certificate"),
    verification.ON_RECORD: N_("On record: issued, not revoked"),
    verification.REVOKED: N_("This certificate was revoked"),
    verification.SUPERSEDED: N_("This certificate was replaced by a new one"),
    verification.RECORD_MISMATCH: N_("This certificate cannot be checked: it may be forged"),
    verification.NOT_VALID_AS_SCANNED: N_("Not valid as scanned: it may be forged"),
    verification.UNKNOWN_SERIAL: N_("No certificate has this serial number: it may be forged"),
}
# Typing names from the paper until one matches must not reveal a masked name: one verifier
# needs a try or two, an HR office checking many papers some dozens. Over all addresses it
# counts addresses, so that one address alone cannot close a certificate's check to others.
NAME_CHECKS_PER_CERTIFICATE_AND_ADDRESS = 5
NAME_CHECKS_PER_ADDRESS = 30
ADDRESSES_CHECKING_NAMES_PER_CERTIFICATE = 10


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
    """Queue the course's pending certificates as a job and show its page."""
    job = issuing.start(session, course, actor=user.actor)
    if job is None:
        return redirect(
            request,
            str(request.url_for("courses:staff_detail", code=course.code)),
            flash=N_("Every completion of this course already has its certificate"),
        )
    session.commit()
    queue.of(request.app).submit(id_of(job))
    return redirect(
        request,
        str(request.url_for("jobs:show", job_id=id_of(job))),
        flash=N_("Issuing %(total)s certificates: this page shows how far it has got"),
        total=job.total,
    )


@router.get("/certificates/{serial}.pdf", name="certificates:pdf")
def download(request: Request, session: SessionDep, cert: SerialCertificate, t: str = ""):
    user = request.state.user
    allowed = user is not None and (user.is_admin or user.university_id == cert.university_id)
    if not allowed and t:
        try:
            allowed = _link_signer(request).loads(t, max_age=LINK_MINUTES * 60) == cert.serial
        except BadSignature:
            allowed = False
    if not allowed:
        raise Forbidden(N_("This download link has expired: look up your certificates again"))
    if cert.status != "issued":
        # Not even the university's staff get a revoked or replaced paper again: a fresh print
        # would look exactly as valid as the original did. The trainee and the clerk are told
        # when and why it stopped being valid, and which certificate replaces it; the stored
        # bytes stay untouched for the record (`dandelion verify SERIAL` still checks them).
        return _verify_page(request, session, cert.serial, None, gone=True)
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
        return _verify_page(request, session, serial, None)
    return render(request, "certificates/verify.html", {"cert": None, "error": None, "serial": ""})


@router.get("/verify/{serial}", name="certificates:verify")
def verify(request: Request, session: SessionDep, serial: str, k: ScanPart, s: ScanPart):
    return _verify_page(request, session, serial, _scan(k, s))


@router.post("/verify/{serial}/name", name="certificates:verify_name")
def verify_name(request: Request, session: SessionDep, serial: str, form: FormDep):
    """The verifier types the full name from the paper; the page says whether it matches."""
    # The page's own scan rides along in hidden fields, so the verdict stays the scanned one.
    scan = _scan(*([v for v in form.getlist(f) if isinstance(v, str)] for f in ("k", "s")))
    data, errors = validate_form(NameCheck, form, ["name"])
    if data is None:
        return _verify_page(request, session, serial, scan, errors=errors)
    try:
        cert = service.get_by_serial(session, serial)
    except (serials.InvalidSerial, NotFound):
        return _verify_page(request, session, serial, scan)
    _limit_name_checks(request, session, cert)
    matches = verification.name_matches(cert, data.name)
    return _verify_page(request, session, serial, scan, name_check=matches)


def _limit_name_checks(request: Request, session: SessionDep, cert: Certificate) -> None:
    # Every check counts, matching or not: the limit must not tell a right guess apart.
    ip = throttle.client_address(request)
    throttle.attempt(
        session,
        [
            (
                "verify-name-ip-serial",
                f"{ip}|{cert.serial}",
                NAME_CHECKS_PER_CERTIFICATE_AND_ADDRESS,
            ),
            ("verify-name-ip", ip, NAME_CHECKS_PER_ADDRESS),
            Limit(
                "verify-name-serial",
                cert.serial,
                ADDRESSES_CHECKING_NAMES_PER_CERTIFICATE,
                by_address=True,
            ),
        ],
        source=ip,
    )


def _verify_page(
    request: Request,
    session: SessionDep,
    serial: str,
    scan: verification.Scan | None,
    *,
    gone: bool = False,
    name_check: bool | None = None,
    errors: dict | None = None,
):
    """The verification page: its verdict first, then the record, the name check and the
    technical details. gone: asked for as a PDF download, which such a certificate no longer has."""
    contact = request.app.state.settings.contact
    try:
        cert = service.get_by_serial(session, serial)
    except serials.InvalidSerial as exc:
        # Mistyped: the serial form says so. Scanned, the code itself cannot be right.
        verdict = verification.NOT_VALID_AS_SCANNED if scan else None
        return render(
            request,
            "certificates/verify.html",
            _unknown(serial, verdict, gettext(str(exc)), contact),
            status_code=404,
        )
    except NotFound as exc:
        return render(
            request,
            "certificates/verify.html",
            _unknown(serial, verification.UNKNOWN_SERIAL, gettext(exc.message), contact),
            status_code=404,
        )
    verdict = verification.verdict(cert, scan, verification.published_keys(session))
    context = {
        "cert": cert,
        "error": None,
        "serial": cert.serial,
        "holder": mask_name(cert.holder_name),
        "verdict": verdict,
        "state": verification.STATE_OF[verdict],
        "headline": VERDICTS[verdict],
        "replaced_by": verification.superseded_by(session, cert),
        "replaces": verification.supersedes(session, cert),
        "scan": scan,
        "gone": gone,
        "name_check": name_check,
        "errors": errors or {},
        "contact": contact,
    }
    if gone:
        status = 410
    elif errors:
        status = 422
    else:
        status = 422 if verdict == verification.NOT_VALID_AS_SCANNED else 200
    return render(request, "certificates/verify.html", context, status_code=status)


def _unknown(serial: str, verdict: str | None, error: str, contact: str) -> dict:
    return {
        "cert": None,
        "error": error,
        "serial": serial[:SERIAL_ECHO],
        "verdict": verdict,
        "state": verification.STATE_OF.get(verdict or "", None),
        "headline": VERDICTS.get(verdict or ""),
        "contact": contact,
        "errors": {},
    }


def _scan(k: list[str], s: list[str]) -> verification.Scan | None:
    """What a QR code adds to the address; None when the serial was typed by hand."""
    if not k and not s:
        return None
    # A genuine code names one key and one signature: of two, which would count is a guess.
    if len(k) != 1 or len(s) != 1:
        return verification.Scan("", "")
    return verification.Scan(k[0], s[0])


@api.post(
    "/courses/{code}/certificates",
    status_code=202,
    responses={200: {"description": "Nothing to issue: every completion has its certificate"}},
)
def issue_api(request: Request, session: SessionDep, principal: ApiPrincipal, course: ApiOwnCourse):
    """Queue the course's pending certificates as a job: 202 with the job's addresses (and a
    Location header); follow status_url for its progress."""
    job = issuing.start(session, course, actor=principal.actor)
    if job is None:
        message = gettext(N_("Every completion of this course already has its certificate"))
        return JSONResponse({"job_id": None, "detail": message}, status_code=200)
    session.commit()
    queue.of(request.app).submit(id_of(job))
    status_url = request.url_for("job_api", job_id=id_of(job)).path
    return JSONResponse(
        {
            "job_id": job.id,
            "total": job.total,
            "url": request.url_for("jobs:show", job_id=id_of(job)).path,
            "status_url": status_url,
        },
        status_code=202,
        headers={"Location": status_url},
    )


@api.get("/certificates/{serial}")
def certificate_json(
    request: Request, session: SessionDep, cert: SerialCertificate, k: ScanPart, s: ScanPart
):
    """The record and the verdict of the verification page; pass k and s, as a certificate's
    QR code carries them, to check that code: one that does not check out answers 422.
    state is valid, no_longer_valid (revoked or superseded) or cannot_be_checked."""
    verdict = verification.verdict(cert, _scan(k, s), verification.published_keys(session))
    replaced_by = verification.superseded_by(session, cert)
    replaces = verification.supersedes(session, cert)
    body = {
        "serial": cert.serial,
        "verdict": verdict,
        "state": verification.STATE_OF[verdict],
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
        "algorithm": verification.ALGORITHM,
        "revoked_at": cert.revoked_at,
        "revoked_reason": cert.revoke_reason,
        "superseded_by": replaced_by.serial if replaced_by else None,
        "supersedes": replaces.serial if replaces else None,
    }
    if verdict != verification.NOT_VALID_AS_SCANNED:
        return body
    body["errors"] = [{"field": "s", "message": gettext(VERDICTS[verdict])}]
    return JSONResponse(jsonable_encoder(body), status_code=422)


@api.post("/certificates/{serial}/name")
def certificate_name(
    request: Request, session: SessionDep, cert: SerialCertificate, data: NameCheck
):
    """Whether a full name typed from the paper is the one printed (the record shows it masked).
    Limited like other guessing: 429 after a few checks from one address."""
    _limit_name_checks(request, session, cert)
    return {"serial": cert.serial, "matches": verification.name_matches(cert, data.name)}


@api.get("/certificates/{serial}/pdf")
def certificate_pdf(request: Request, session: SessionDep, cert: ApiOwnCertificate):
    """The PDF as issued; 410 once the certificate was revoked or replaced (see the page's
    download for why), saying when and why, or which certificate replaces it."""
    if cert.status != "issued":
        return JSONResponse(jsonable_encoder(_withdrawn(session, cert)), status_code=410)
    return _pdf_response(
        service.pdf_bytes(cert, request.app.state.settings.data_dir), f"{cert.serial}.pdf"
    )


def _withdrawn(session: SessionDep, cert: Certificate) -> dict:
    replaced_by = verification.superseded_by(session, cert)
    if replaced_by is not None:
        detail = gettext(
            N_("This certificate was replaced by %(serial)s"),
            serial=serials.format_serial(replaced_by.serial),
        )
    else:
        revoked_on = clock.in_china(cert.revoked_at).date() if cert.revoked_at else ""
        detail = gettext(
            N_("This certificate was revoked on %(date)s: %(reason)s"),
            date=str(revoked_on),
            reason=cert.revoke_reason or "",
        )
    return {
        "detail": detail,
        "status": cert.status,
        "revoked_at": cert.revoked_at,
        "revoked_reason": cert.revoke_reason,
        "superseded_by": replaced_by.serial if replaced_by else None,
    }


@api.get("/keys")
def public_keys(session: SessionDep):
    """Every certificate signing key ever used, by key id (retired ones too, so that old
    certificates stay checkable), so a certificate can be verified without trusting this site."""
    # The very keys verification accepts, so what is published and what is believed agree.
    return {
        "algorithm": verification.ALGORITHM,
        "signed_fields": verification.SIGNED_FIELDS,
        "keys": [
            {
                "key_id": key.key_id,
                "public_key": key.public_key_b64,
                "created_at": key.created_at,
                "retired_at": key.retired_at,
            }
            for key in verification.published_keys(session).values()
        ],
    }
