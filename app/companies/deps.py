from typing import Annotated

from fastapi import Depends

from app.auth.deps import AdminUser, ApiAdmin
from app.companies import service
from app.companies.models import Company
from app.db import SessionDep
from app.errors import NotFound
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
