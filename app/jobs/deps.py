from typing import Annotated

from fastapi import Depends, Path

from app.auth.deps import ApiPrincipal, require_user
from app.auth.models import User
from app.db import SessionDep
from app.jobs import service
from app.jobs.models import Job

# Job ids are 32-bit integers in both databases: a larger number is a bad request, not a 500.
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The job's number")]


def own_job(
    session: SessionDep, user: Annotated[User, Depends(require_user)], job_id: JobId
) -> Job:
    """A job of the user's university (any job for an administrator); others are a 404."""
    return service.get_visible(
        session, job_id, university_id=user.university_id, admin=user.is_admin
    )


def api_own_job(session: SessionDep, principal: ApiPrincipal, job_id: JobId) -> Job:
    return service.get_visible(
        session, job_id, university_id=principal.university_id, admin=principal.is_admin
    )


OwnJob = Annotated[Job, Depends(own_job)]
ApiOwnJob = Annotated[Job, Depends(api_own_job)]
