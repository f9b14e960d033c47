"""A trainee's own records (PIPL): sign in with ID number, mobile and a one-time code; see,
withdraw, download and ask to erase what is held. Share copies: share_pages; the
administrators' side of deletion requests: admin_pages."""

import json

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from starlette.background import BackgroundTask

from app import clock
from app.audit import service as audit
from app.auth import throttle
from app.auth.deps import load_user
from app.auth.throttle import Limit
from app.certificates import service as certificates
from app.db import SessionDep
from app.errors import Conflict, NotFound
from app.i18n import N_, gettext
from app.me import admin_pages, erasure, records, share_pages, shares, signin, sms
from app.me.deps import CHALLENGE_COOKIE, TRAINEE_COOKIE, CurrentTrainee, MaybeTrainee
from app.me.models import CodeEntry, SignIn
from app.me.pages import RowNumber, page, written
from app.web import (
    FormDep,
    delete_cookie,
    form_values,
    redirect,
    rotate_csrf,
    set_cookie,
    validate_form,
)

router = APIRouter(dependencies=[Depends(load_user)])
router.include_router(share_pages.router)
router.include_router(admin_pages.router)

# The same words whether or not the pair matches an enrollment: no one learns which it was.
CODE_SENT = N_(
    "If this ID number and mobile match an enrollment, a code was sent to the mobile. "
    "It is valid for %(minutes)s minutes."
)
WRONG_CODE = N_("This code is wrong or has expired. Check the message, or ask for a new code.")


@router.get("/me/sign-in", name="me:sign_in")
def sign_in_page(request: Request, signed: MaybeTrainee):
    if signed is not None:
        return redirect(request, "/me")
    return page(request, "me/sign_in.html", {"values": {}, "errors": {}})


@router.post("/me/sign-in", name="me:sign_in_post")
def sign_in(request: Request, session: SessionDep, form: FormDep):
    data, errors = validate_form(SignIn, form, ["id_number", "mobile"])
    if data is None:  # never the ID number typed back into the page
        context = {"values": form_values(form, ["mobile"]), "errors": errors}
        return page(request, "me/sign_in.html", context, status_code=422)
    ip = throttle.client_address(request)
    # Every request counts, matching or not, so the limits tell nothing either. Per ID number
    # over all addresses it counts addresses: one address cannot lock the holder out.
    throttle.attempt(
        session,
        [
            ("me-code-id-ip", f"{data.id_number}|{ip}", 3),
            Limit("me-code-id", data.id_number, 5, by_address=True),
            ("me-code-mobile", data.mobile, 5),
            ("me-code-ip", ip, 20),
        ],
        source=ip,
    )
    sender = sms.sender_for(request.app.state.settings)
    challenge, text_message = signin.request_code(
        session, id_number=data.id_number, mobile=data.mobile, sender=sender
    )
    session.commit()
    response = redirect(request, "/me/code", flash=CODE_SENT, minutes=signin.CODE_MINUTES)
    set_cookie(response, CHALLENGE_COOKIE, challenge, max_age=signin.CODE_MINUTES * 60)
    if text_message is not None:  # sent once the answer is out, the same for every pair
        response.background = BackgroundTask(text_message)
    return response


@router.get("/me/code", name="me:code")
def code_page(request: Request):
    if not request.cookies.get(CHALLENGE_COOKIE):
        return redirect(request, "/me/sign-in")
    return page(request, "me/code.html", {"errors": {}})


@router.post("/me/code", name="me:code_post")
def enter_code(request: Request, session: SessionDep, form: FormDep):
    challenge = request.cookies.get(CHALLENGE_COOKIE)
    if not challenge:
        return redirect(request, "/me/sign-in", flash=N_("Ask for a code first"))
    data, errors = validate_form(CodeEntry, form, ["code"])
    if data is None:
        errors = {"code": gettext(N_("Enter the 6 digits of the code"))}
        return page(request, "me/code.html", {"errors": errors}, status_code=422)
    ip = throttle.client_address(request)
    throttle.attempt(session, [("me-code-try-ip", ip, 30)], source=ip)
    code = signin.use_code(session, challenge=challenge, code=data.code)
    if code is None:
        session.commit()  # the try counts
        errors = {"code": gettext(WRONG_CODE)}
        return page(request, "me/code.html", {"errors": errors}, status_code=422)
    earlier = request.cookies.get(TRAINEE_COOKIE)
    if earlier:
        signin.end_session(session, earlier)
    token = signin.start_session(session, code)
    session.commit()
    response = redirect(request, "/me", flash=N_("You are signed in to your records"))
    set_cookie(response, TRAINEE_COOKIE, token)  # no max_age: it ends with the browser too
    delete_cookie(response, CHALLENGE_COOKIE)
    rotate_csrf(request)  # the forms of the pages before signing in no longer fit
    return response


@router.post("/me/sign-out", name="me:sign_out")
def sign_out(request: Request, session: SessionDep, form: FormDep):
    token = request.cookies.get(TRAINEE_COOKIE)
    if token:
        signin.end_session(session, token)
        session.commit()
    response = redirect(request, "/", flash=N_("You are signed out of your records"))
    delete_cookie(response, TRAINEE_COOKIE)
    rotate_csrf(request)
    return response


@router.get("/me", name="me:records")
def records_page(request: Request, session: SessionDep, signed: CurrentTrainee):
    trainee_id = signed.trainee.id or 0
    today = clock.today()
    context = {
        "trainee": signed.trainee,
        "records": records.records_of(session, signed),
        "certificates": records.certificates_of(session, trainee_id),
        "shares": [
            (share, cert, shares.state_of(share, cert, today))
            for share, cert in shares.of_trainee(session, trainee_id)
        ],
        "deletion": erasure.latest_of(session, trainee_id),
        "today": today,
    }
    return page(request, "me/records.html", context)


@router.get("/me/enrollments/{enrollment_id}/withdraw", name="me:withdraw_form")
def withdraw_page(
    request: Request, session: SessionDep, signed: CurrentTrainee, enrollment_id: RowNumber
):
    found = [r for r in records.records_of(session, signed) if r.enrollment.id == enrollment_id]
    if not found:
        raise NotFound(records.NO_SUCH_ENROLLMENT)
    return page(request, "me/withdraw.html", {"record": found[0], "today": clock.today()})


@router.post("/me/enrollments/{enrollment_id}/withdraw", name="me:withdraw")
def withdraw(
    request: Request,
    session: SessionDep,
    signed: CurrentTrainee,
    enrollment_id: RowNumber,
    form: FormDep,
):
    with written(request, session):
        enrollment = records.withdraw(session, signed, enrollment_id)
    return redirect(
        request,
        "/me",
        flash=N_("Enrollment %(number)s is withdrawn: your seat is free for someone else"),
        number=enrollment.enrollment_no,
    )


@router.get("/me/certificates/{serial}.pdf", name="me:certificate_pdf")
def certificate_pdf(request: Request, session: SessionDep, signed: CurrentTrainee, serial: str):
    cert = records.certificate_of(session, signed.trainee.id or 0, serial)
    if cert.status != "issued":
        raise Conflict(N_("This certificate is no longer valid: it cannot be downloaded"))
    content = certificates.pdf_bytes(cert, request.app.state.settings.data_dir)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{cert.serial}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _held(session, signed) -> str:
    data = records.held_data(session, signed)
    audit.record(session, signed.actor, "me.export", "trainee", signed.trainee.id)
    session.commit()
    return json.dumps(jsonable_encoder(data), ensure_ascii=False, indent=2)


@router.get("/me/data", name="me:data")
def data_page(request: Request, session: SessionDep, signed: CurrentTrainee):
    return page(request, "me/data.html", {"held": _held(session, signed)})


@router.get("/me/data.json", name="me:data_json")
def data_json(request: Request, session: SessionDep, signed: CurrentTrainee):
    return Response(
        _held(session, signed),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _delete_page(request: Request, session, signed, errors: dict, status_code: int = 200):
    trainee_id = signed.trainee.id or 0
    context = {
        "pending": erasure.pending_of(session, trainee_id),
        "holdings": erasure.holdings(session, trainee_id),
        "errors": errors,
    }
    return page(request, "me/delete.html", context, status_code=status_code)


@router.get("/me/delete", name="me:delete_form")
def delete_page(request: Request, session: SessionDep, signed: CurrentTrainee):
    return _delete_page(request, session, signed, {})


@router.post("/me/delete", name="me:delete")
def ask_deletion(request: Request, session: SessionDep, signed: CurrentTrainee, form: FormDep):
    if form.get("confirm") != "yes":
        errors = {"confirm": gettext(admin_pages.CONFIRM)}
        return _delete_page(request, session, signed, errors, status_code=422)
    erasure.request(session, signed.trainee)  # Conflict when one is already waiting
    session.commit()
    return redirect(
        request, "/me", flash=N_("Your request is sent: an administrator will decide on it")
    )
