"""The pages of a course that two routers render: the public page with its enrollment form
(courses' GET, and enrollments' POST when the form comes back with errors or a refusal), and
the staff's course page (courses' GET, and a print run's POST when nothing can be printed).
Nothing in it imports enrollments."""

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app import clock, web
from app.certificates import printing, roster
from app.companies import service as companies
from app.courses import service
from app.courses.models import Course
from app.middleware import SCRIPT_CSP
from app.web import render

FILTERS = list(roster.RosterFilter.model_fields)
# The enrollment form runs one script, /static/employer.js (the employer's type-ahead): the
# site's policy with scripts from this origin allowed, still no inline script.


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
    response = render(
        request,
        "courses/public.html",
        {
            "course": course,
            "university": service.university_of(session, course),
            "city": service.city_of(session, course),
            "enrolling": service.is_enrolling(course, clock.today()),
            **companies.employer_choices(session, values or {}),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = SCRIPT_CSP
    return response


def read_filters(query: Mapping[str, Any]) -> tuple[roster.RosterFilter, dict, dict[str, str]]:
    """The course page's filters from a query string (or the print form's copy of it)."""
    return web.read_filters(roster.RosterFilter, query, FILTERS)


def staff_page(
    request: Request,
    session: Session,
    course: Course,
    query: Mapping[str, Any],
    *,
    errors: dict[str, str] | None = None,
    ticked: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The staff's course page: each trainee's state, the filters, the ticks for a print run,
    and the course's print log."""
    filters, values, filter_errors = read_filters(query)
    errors = {**filter_errors, **(errors or {})}
    user = request.state.user
    return render(
        request,
        "courses/staff_detail.html",
        {
            "course": course,
            "rows": roster.course_roster(session, course, filters),
            "states": roster.STATES,
            "filtered": filters != roster.RosterFilter(),
            "values": values,
            "errors": errors,
            "ticked": set(ticked or []),
            **printing.log_view(
                session,
                printing.print_log(
                    session, university_id=user.university_id, course=course, limit=10
                ),
            ),
        },
        status_code=422 if errors and status_code == 200 else status_code,
    )
