"""Accounts and API tokens in the browser: an administrator's accounts pages (reset a password,
deactivate, reactivate) and everyone's token page (list, create, revoke)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from app.auth import accounts, service
from app.auth.deps import AdminUser, require_user
from app.auth.models import PasswordReset, TokenCreate, User
from app.db import SessionDep
from app.errors import AppError, Invalid
from app.i18n import N_, gettext
from app.universities import service as universities
from app.universities.models import University
from app.web import FormDep, redirect, render, submit

router = APIRouter()
# Row ids are 32-bit integers in both databases: a larger number is a bad request, not a 500.
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CurrentUser = Annotated[User, Depends(require_user)]


@router.get("/admin/accounts", name="auth:accounts")
def account_list(request: Request, session: SessionDep, user: AdminUser):
    return render(request, "admin/accounts.html", {"accounts": service.list_accounts(session)})


def _detail(request: Request, session, account_id: int, *, errors=None, status_code=200):
    account, university = accounts.get(session, account_id)
    context = {
        "account": account,
        "university": university,
        "tokens": accounts.tokens_made_by(session, account),
        "errors": errors or {},
    }
    return render(request, "admin/accounts_detail.html", context, status_code=status_code)


@router.get("/admin/accounts/{account_id}", name="auth:account_detail")
def account_detail(request: Request, session: SessionDep, user: AdminUser, account_id: AccountId):
    return _detail(request, session, account_id)


@router.post("/admin/accounts/{account_id}/password", name="auth:reset_password")
def reset_password(
    request: Request, session: SessionDep, user: AdminUser, account_id: AccountId, form: FormDep
):
    account, _ = accounts.get(session, account_id)
    return submit(
        request,
        session,
        form,
        PasswordReset,
        lambda data: accounts.reset_password(session, account, password=data.password, actor=user),
        again=lambda values, errors: _detail(
            request, session, account_id, errors=errors, status_code=422
        ),
        done=str(request.url_for("auth:account_detail", account_id=account_id)),
        flash=N_("Password reset: a new one must be chosen at the next login"),
    )


def _state_change(request: Request, session, account_id: int, change, flash: str):
    account, _ = accounts.get(session, account_id)
    url = str(request.url_for("auth:account_detail", account_id=account_id))
    try:
        change(account)
    except AppError as exc:
        session.rollback()
        return _detail(
            request,
            session,
            account_id,
            errors={"state": gettext(exc.message, **exc.params)},
            status_code=exc.status,
        )
    session.commit()
    return redirect(request, url, flash=flash, email=account.email)


@router.post("/admin/accounts/{account_id}/deactivate", name="auth:deactivate")
def deactivate(
    request: Request, session: SessionDep, user: AdminUser, account_id: AccountId, form: FormDep
):
    return _state_change(
        request,
        session,
        account_id,
        lambda account: accounts.deactivate(session, account, actor=user),
        N_("%(email)s is deactivated: logged out everywhere, API tokens revoked"),
    )


@router.post("/admin/accounts/{account_id}/reactivate", name="auth:reactivate")
def reactivate(
    request: Request, session: SessionDep, user: AdminUser, account_id: AccountId, form: FormDep
):
    return _state_change(
        request,
        session,
        account_id,
        lambda account: accounts.reactivate(session, account, actor=user),
        N_("%(email)s can log in again"),
    )


def _tokens_page(request: Request, session, user: User, *, status_code=200, **extra):
    context = {
        "tokens": service.visible_tokens(session, user),
        "universities": universities.list_all(session) if user.is_admin else [],
        "values": {},
        "errors": {},
        **extra,
    }
    return render(request, "auth/tokens.html", context, status_code=status_code)


@router.get("/tokens", name="auth:tokens")
def token_list(request: Request, session: SessionDep, user: CurrentUser):
    return _tokens_page(request, session, user)


def _create_token(session, user: User, data: TokenCreate) -> str:
    university_id = data.university_id if user.is_admin else user.university_id
    if not user.is_admin and university_id is None:
        # A staff account whose university is gone acts for nobody: never an alliance token.
        raise Invalid([("name", N_("Your account belongs to no university: ask an administrator"))])
    if university_id is not None and session.get(University, university_id) is None:
        raise Invalid([("university_id", N_("Choose a university"))])
    _, secret = service.create_token(
        session,
        name=data.name,
        role="university" if university_id is not None else "admin",
        university_id=university_id,
        created_by=user,
        actor=user.actor,
    )
    return secret


@router.post("/tokens", name="auth:create_token")
def create_token(request: Request, session: SessionDep, user: CurrentUser, form: FormDep):
    secret: list[str] = []
    response = submit(
        request,
        session,
        form,
        TokenCreate,
        lambda data: secret.append(_create_token(session, user, data)),
        again=lambda values, errors: _tokens_page(
            request, session, user, status_code=422, values=values, errors=errors
        ),
        done="/tokens",
        flash=N_("Token created"),
    )
    if not secret:
        return response
    # The secret is shown on this one answer and never again (only its digest is stored), so it
    # is the page itself rather than a redirect; the answer is no-store like every signed-in one.
    return _tokens_page(request, session, user, status_code=201, secret=secret[0])


@router.post("/tokens/{token_id}/revoke", name="auth:revoke_token")
def revoke_token(
    request: Request, session: SessionDep, user: CurrentUser, token_id: TokenId, form: FormDep
):
    token = service.visible_token(session, user, token_id)
    revoked = service.revoke_token(session, token, actor=user.actor)
    session.commit()
    flash = (
        N_("Token “%(name)s” revoked") if revoked else N_("Token “%(name)s” was revoked already")
    )
    return redirect(request, "/tokens", flash=flash, name=token.name)
