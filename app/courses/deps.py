from typing import Annotated

from fastapi import Depends

from app.auth.deps import ApiUniversity, StaffUser, load_user
from app.auth.models import User
from app.courses import service
from app.courses.models import Course
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_


def _owned(course: Course, university_id: int | None) -> Course:
    # Another university's course is answered exactly like a missing one: nothing leaks.
    if course.university_id != university_id:
        raise NotFound(N_("No course has this code"))
    return course


def public_course(
    session: SessionDep, user: Annotated[User | None, Depends(load_user)], code: str
) -> Course:
    """Any course by the code in its public address, but a draft: codes are easy to guess, and
    a draft is not yet for the public. Its university's staff (and administrators) preview it."""
    course = service.get_by_code(session, code)
    if course.is_draft and not (
        user is not None and (user.is_admin or user.university_id == course.university_id)
    ):
        raise NotFound(N_("No course has this code"))
    return course


def own_course(session: SessionDep, user: StaffUser, code: str) -> Course:
    return _owned(service.get_by_code(session, code), user.university_id)


def api_own_course(session: SessionDep, principal: ApiUniversity, code: str) -> Course:
    return _owned(service.get_by_code(session, code), principal.university_id)


PublicCourse = Annotated[Course, Depends(public_course)]
OwnCourse = Annotated[Course, Depends(own_course)]
ApiOwnCourse = Annotated[Course, Depends(api_own_course)]
