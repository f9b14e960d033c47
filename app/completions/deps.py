"""An upload batch by the number in the path: only its university's staff or API tokens see it."""

from typing import Annotated

from fastapi import Depends, Path

from app.completions import service
from app.completions.models import CompletionBatch
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import N_
from app.universities.deps import ApiOwnUniversity, StaffUniversity
from app.universities.models import University

BatchId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _owned(batch: CompletionBatch, university: University) -> CompletionBatch:
    # Another university's batch is answered exactly like a missing one: nothing leaks.
    if batch.university_id != university.id:
        raise NotFound(N_("No upload has this number"))
    return batch


def own_batch(
    session: SessionDep, university: StaffUniversity, batch_id: BatchId
) -> CompletionBatch:
    return _owned(service.get_batch(session, batch_id), university)


def api_own_batch(
    session: SessionDep, university: ApiOwnUniversity, batch_id: BatchId
) -> CompletionBatch:
    return _owned(service.get_batch(session, batch_id), university)


OwnBatch = Annotated[CompletionBatch, Depends(own_batch)]
ApiOwnBatch = Annotated[CompletionBatch, Depends(api_own_batch)]
