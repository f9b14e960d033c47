"""The public page of a course, with its enrollment form.

Its own module because two routers render it: courses' GET, and enrollments' POST when the
form comes back with errors (422) or a refusal (409). Enrollments imports it from here;
nothing in it imports enrollments."""

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app import clock
from app.companies import service as companies
from app.courses import service
from app.courses.models import Course
from app.web import render


def public_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    """The course with its form: empty, or as the trainee filled it in beside the errors."""
    return render(
        request,
        "courses/public.html",
        {
            "course": course,
            "university": service.university_of(session, course),
            "enrolling": service.is_enrolling(course, clock.today()),
            "companies": companies.list_confirmed(session),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status_code,
    )
