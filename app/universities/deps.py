"""The university a request acts for: the staff member's own, or the API token's."""

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ApiUniversity, StaffUser
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_
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


StaffUniversity = Annotated[University, Depends(staff_university)]
ApiOwnUniversity = Annotated[University, Depends(api_own_university)]
