"""Who is asking: a logged-in user (pages) or a bearer token (API), and what they may touch."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service, sessions, totp
from app.auth.models import AUDITOR, SECURITY, ApiToken, User
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.i18n import N_
from app.universities import viewing

SESSION_COOKIE = "dandelion_session"


class LoginRequired(Unauthorized):
    """Pages answer this with a redirect to the login page (or to `page` when it is set)."""

    page: str | None = None


class PasswordChangeRequired(LoginRequired):
    """The login is not complete: an administrator reset the password, so the user chooses
    a new one before anything else."""

    page = "/account"


class SecondFactorRequired(LoginRequired):
    """The login is not complete: the account must have a second factor and has none yet."""

    page = "/account/second-factor"


# What a user whose password was reset may still do before choosing a new one.
UNTIL_PASSWORD_CHANGED = frozenset({"auth:account", "auth:change_password", "auth:logout"})
# What a user who must have a second factor may do before setting it up.
UNTIL_SECOND_FACTOR = frozenset({"auth:second_factor", "auth:enrol", "auth:logout"})


def load_user(request: Request, session: SessionDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    limits = sessions.Limits.of(request.app.state.settings)
    user = sessions.user_for(session, token, limits) if token else None
    request.state.user = user
    # Every page loads the user (each router depends on this), so these checks hold them all,
    # the public ones included: nothing else is reachable with the temporary password, or
    # before the second factor that the account must have.
    route = getattr(request.scope.get("route"), "name", None)
    if user is not None and user.must_change_password:
        if route not in UNTIL_PASSWORD_CHANGED:
            raise PasswordChangeRequired(N_("Choose a new password first"))
    elif user is not None and totp.missing(session, user) and route not in UNTIL_SECOND_FACTOR:
        raise SecondFactorRequired(N_("Set up your second factor first"))
    if user is not None and token and user.is_admin:
        # An administrator viewing a university read-only acts as a stand-in of its staff.
        user = viewing.as_viewer(request, session, user, token)
        request.state.user = user
    return user


def require_user(user: Annotated[User | None, Depends(load_user)]) -> User:
    if user is None:
        raise LoginRequired(N_("Please log in"))
    return user


def require_admin(request: Request, user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        viewed = viewing.viewing(request)
        if viewed is not None:
            raise Forbidden(viewing.READ_ONLY, params={"university": viewed.name})
        raise Forbidden(N_("Only administrators can do this"))
    return user


def require_staff(user: Annotated[User, Depends(require_user)]) -> User:
    if user.role != "staff" or user.university_id is None:
        raise Forbidden(N_("Only university staff can do this"))
    return user


def require_security(user: Annotated[User, Depends(require_user)]) -> User:
    if user.role != SECURITY:
        raise Forbidden(N_("Only the security administrator can do this"))
    return user


def require_auditor(user: Annotated[User, Depends(require_user)]) -> User:
    if user.role != AUDITOR:
        raise Forbidden(N_("Only the auditor can do this"))
    return user


AdminUser = Annotated[User, Depends(require_admin)]
StaffUser = Annotated[User, Depends(require_staff)]
SecurityUser = Annotated[User, Depends(require_security)]
AuditorUser = Annotated[User, Depends(require_auditor)]

_bearer = HTTPBearer(auto_error=False, description="A token from `dandelion token create`")


@dataclass
class Principal:
    """An API caller: an administrator's token or one university's token."""

    token: ApiToken

    @property
    def is_admin(self) -> bool:
        return self.token.role == "admin"

    @property
    def university_id(self) -> int | None:
        return self.token.university_id

    @property
    def actor(self) -> str:
        return f"token:{self.token.id}"


def api_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(N_("A bearer token is required"))
    token = service.token_for_secret(session, credentials.credentials)
    if token is None:
        raise Unauthorized(N_("The token is not valid"))
    return Principal(token)


def api_admin(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden(N_("This needs an administrator's token"))
    return principal


def api_university(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
    if principal.university_id is None:
        raise Forbidden(N_("This needs a university's token"))
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
ApiAdmin = Annotated[Principal, Depends(api_admin)]
ApiUniversity = Annotated[Principal, Depends(api_university)]
