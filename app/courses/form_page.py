"""The course form, for a new course and for an edit: what the clerk typed beside the errors,
and a warning to confirm when the catalog would not show the course."""

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app.cities.models import City
from app.companies.models import CLUSTER_NAMES
from app.courses.models import MODE_NAMES, Course, CourseEdit
from app.text import hours_text
from app.web import render

CHECKBOXES = ("is_draft", "confirm_hidden")


def values_of(course: Course) -> dict[str, str]:
    """The form filled in with the course as it is."""
    values: dict[str, str] = {}
    for name in CourseEdit.model_fields:
        value = getattr(course, name, None)
        if name in CHECKBOXES:
            values[name] = "yes" if value else ""
        elif name == "hours":
            values[name] = hours_text(course.hours)
        else:
            values[name] = "" if value is None else str(value)
    return values


def form_page(
    request: Request,
    session: Session,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    course: Course | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    cities = list(session.exec(select(City).order_by(col(City.code))))
    return render(
        request,
        "courses/form.html",
        {
            "course": course,
            "values": values,
            "errors": errors,
            "cities": cities,
            "modes": MODE_NAMES,
            "clusters": CLUSTER_NAMES,
        },
        status_code=status_code,
    )
