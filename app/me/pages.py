"""Shared by the trainee's pages: rendering that is never cached (every page holds their data),
and writes whose refusal still renders the page's header."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Path, Request
from sqlmodel import Session

from app.db import writing
from app.errors import AppError
from app.web import render

RowNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def page(request: Request, template: str, context: dict, status_code: int = 200):
    response = render(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@contextmanager
def written(request: Request, session: Session) -> Iterator[None]:
    """app.db.writing, for a route whose service may refuse: the rollback expires every row
    loaded, the signed-in user too, which the error page's header reads."""
    try:
        with writing(session):
            yield
    except AppError:
        user = getattr(request.state, "user", None)
        if user is not None:
            session.refresh(user)
        raise
