from typing import Annotated

from fastapi import Depends

from app.auth.deps import AdminUser, ApiAdmin, ApiPrincipal, require_user
from app.auth.models import User
from app.companies import service
from app.companies.models import Company
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.i18n import N_


def _by_uscc(session, uscc: str) -> Company:
    company = service.get_by_uscc(session, uscc.strip().upper())
    if company is None:
        raise NotFound(N_("No company has this unified social credit code"))
    return company


# Looked up only for an administrator: nobody else learns which codes are registered.
def admin_company(session: SessionDep, user: AdminUser, uscc: str) -> Company:
    return _by_uscc(session, uscc)


def api_admin_company(session: SessionDep, principal: ApiAdmin, uscc: str) -> Company:
    return _by_uscc(session, uscc)


AdminCompany = Annotated[Company, Depends(admin_company)]
ApiAdminCompany = Annotated[Company, Depends(api_admin_company)]


# Who may match unconfirmed companies, and which: None for every one (an administrator), or
# a university's id for those its trainees named.
def match_scope(user: Annotated[User, Depends(require_user)]) -> int | None:
    if user.is_admin:
        return None
    if user.role == "staff" and user.university_id is not None:
        return user.university_id
    raise Forbidden(N_("Only administrators and university staff can do this"))


def api_match_scope(principal: ApiPrincipal) -> int | None:
    return None if principal.is_admin else principal.university_id


MatchScope = Annotated[int | None, Depends(match_scope)]
ApiMatchScope = Annotated[int | None, Depends(api_match_scope)]
