"""Shared by the trainee's pages: rendering that is never cached (every page holds their data)."""

from typing import Annotated

from fastapi import Path, Request

from app.web import render

RowNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def page(request: Request, template: str, context: dict, status_code: int = 200):
    response = render(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
