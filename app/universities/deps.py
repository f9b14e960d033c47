"""The university a request acts for: the staff member's own, or the API token's."""

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ApiUniversity, StaffUser, require_user
from app.auth.models import User
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_
from app.universities import service
from app.universities.models import University


def _university(session, university_id: int | None) -> University:
    university = session.get(University, university_id) if university_id else None
    if university is None:  # an account whose university is gone: nothing to act for
        raise NotFound(N_("No university has this code"))
    return university


def staff_university(session: SessionDep, user: StaffUser) -> University:
    return _university(session, user.university_id)


def api_own_university(session: SessionDep, principal: ApiUniversity) -> University:
    return _university(session, principal.university_id)


def managed_university(
    session: SessionDep, user: Annotated[User, Depends(require_user)], code: str
) -> University:
    """The university in the address, for an administrator or that university's own staff.
    Another university's is answered exactly like a missing one."""
    university = service.get_by_code(session, code)
    if not (user.is_admin or user.university_id == university.id):
        raise NotFound(N_("No university has this code"))
    return university


StaffUniversity = Annotated[University, Depends(staff_university)]
ApiOwnUniversity = Annotated[University, Depends(api_own_university)]
ManagedUniversity = Annotated[University, Depends(managed_university)]
