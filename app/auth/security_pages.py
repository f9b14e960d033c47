"""The security administrator's pages (等保's 安全管理员): every account's second factor and
lock-outs, with unlock and reset, and which universities' staff must use a second factor."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlmodel import col, select

from app.audit import service as audit
from app.auth import accounts, lockout, service, sessions, totp
from app.auth.deps import SecurityUser
from app.db import SessionDep
from app.errors import AppError, NotFound
from app.i18n import N_, gettext
from app.universities.models import University
from app.web import FormDep, redirect, render

router = APIRouter()
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UniversityId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _page(request: Request, session, *, error: str | None = None, status_code: int = 200):
    rows = service.list_accounts(session)
    universities = list(session.exec(select(University).order_by(col(University.name))))
    requiring = {u.id for u in universities if u.staff_totp_required}
    context = {
        "accounts": [
            (user, university, user.is_privileged or user.university_id in requiring)
            for user, university in rows
        ],
        "locks": lockout.locks_of(session, [user for user, _ in rows]),
        "universities": universities,
        "error": error,
    }
    return render(request, "auth/security.html", context, status_code=status_code)


@router.get("/security/accounts", name="auth:security")
def security_page(request: Request, session: SessionDep, user: SecurityUser):
    return _page(request, session)


def _change(request: Request, session, change, flash: str, **params):
    try:
        change()
    except AppError as exc:
        session.rollback()
        return _page(
            request, session, error=gettext(exc.message, **exc.params), status_code=exc.status
        )
    session.commit()
    return redirect(request, "/security/accounts", flash=flash, **params)


@router.post("/security/accounts/{account_id}/unlock", name="auth:unlock")
def unlock(
    request: Request, session: SessionDep, user: SecurityUser, account_id: AccountId, form: FormDep
):
    account, _ = accounts.get(session, account_id)
    return _change(
        request,
        session,
        lambda: lockout.unlock(session, account, actor=user),
        N_("%(email)s is unlocked"),
        email=account.email,
    )


@router.post("/security/accounts/{account_id}/second-factor/reset", name="auth:reset_second_factor")
def reset_second_factor(
    request: Request, session: SessionDep, user: SecurityUser, account_id: AccountId, form: FormDep
):
    account, _ = accounts.get(session, account_id)

    def reset() -> None:
        totp.reset(session, account, actor=user)
        # Whoever holds the lost phone is shut out: the account's logins end with it.
        sessions.end_all(session, account)

    return _change(
        request,
        session,
        reset,
        N_("The second factor of %(email)s is removed: logged out everywhere"),
        email=account.email,
    )


@router.post(
    "/security/universities/{university_id}/second-factor", name="auth:require_second_factor"
)
def require_second_factor(
    request: Request,
    session: SessionDep,
    user: SecurityUser,
    university_id: UniversityId,
    form: FormDep,
):
    university = session.get(University, university_id)
    if university is None:
        raise NotFound(N_("No such university"))
    required = form.get("required") == "yes"
    university.staff_totp_required = required
    session.add(university)
    audit.record(
        session,
        user.actor,
        "university.second_factor",
        "university",
        university.id,
        required=required,
    )
    session.commit()
    flash = (
        N_("%(university)s's staff must now use a second factor")
        if required
        else N_("%(university)s's staff may choose a second factor")
    )
    return redirect(request, "/security/accounts", flash=flash, university=university.name)
