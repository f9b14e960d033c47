"""The catalog page (GET /courses), its API twin (GET /api/v1/courses) and each course's QR
code. Anyone may read them: no login, nothing per user in what is cached."""

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from markupsafe import Markup
from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from app import clock
from app.auth.deps import load_user
from app.catalog import cache, qr, search
from app.catalog.filters import CatalogFilter
from app.cities.models import City
from app.companies.models import CLUSTER_NAMES
from app.courses.deps import PublicCourse
from app.courses.models import MODE_NAMES, CoursePublic
from app.db import SessionDep
from app.i18n import current_language, gettext
from app.universities.models import University
from app.web import read_filters, render, templates

router = APIRouter(dependencies=[Depends(load_user)])
templates.env.globals["course_modes"] = MODE_NAMES  # the cards name a course's mode
api = APIRouter(tags=["courses"])

FIELDS = list(CatalogFilter.model_fields)
PAGE_HEADERS = {
    "X-Total-Count": {
        "description": "Courses matching the filters, on every page",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'The next and previous pages (rel="next", rel="prev"), when there are',
        "schema": {"type": "string"},
    },
}


@router.get("/courses", name="courses:list")
def catalog(request: Request, session: SessionDep):
    """?q=&city=&university=&mode=&cluster=&starts_from=&starts_to=&seats=&page= narrow the
    list; a filter that is not valid is shown beside its field (422) and left out."""
    asked, values, errors = _read(request.query_params)
    if errors:  # what was typed is shown again beside its error: not a page for everyone
        results = _results(request, session, asked, values, errors)
    else:
        key = ("page", asked, clock.today(), current_language())
        results = cache.of(request.app).get(
            key, lambda: _results(request, session, asked, asked.at_page(1), {})
        )
    return render(
        request, "courses/list.html", {"results": results}, status_code=422 if errors else 200
    )


def _results(
    request: Request,
    session: Session,
    asked: CatalogFilter,
    values: dict[str, str],
    errors: dict[str, str],
) -> Markup:
    """The search form and one page of cards, as HTML: rendering them is most of the page's
    cost, and they are the same for everyone asking the same in the same language."""
    found = _found(request, session, asked)
    context = {
        "request": request,  # url_for's: paths only, never the Host
        "page": found,
        "catalog": found.rows,
        "asked": asked,
        "values": values,
        "errors": errors,
        "choices": _choices(request, session),
    }
    return Markup(templates.env.get_template("courses/_results.html").render(context))


@api.get(
    "/courses",
    response_model=list[CoursePublic],
    responses={200: {"description": "One page of courses, soonest first", "headers": PAGE_HEADERS}},
)
def list_courses(
    request: Request,
    session: SessionDep,
    asked: Annotated[CatalogFilter, Query()],
):
    """Courses taking enrollments, with the filters of the catalog page; page and per_page
    (at most 100) choose the page. A page past the end is an empty list: X-Total-Count says
    how many there are."""
    body, headers = cache.of(request.app).get(
        ("api", asked, clock.today()), lambda: _api_page(request, session, asked)
    )
    # Served as the bytes kept: the list was validated against CoursePublic when it was made.
    return Response(body, media_type="application/json", headers=headers)


COURSES = TypeAdapter(list[CoursePublic])


def _api_page(
    request: Request, session: Session, asked: CatalogFilter
) -> tuple[bytes, dict[str, str]]:
    found = _found(request, session, asked)
    headers = {"X-Total-Count": str(found.total)}
    links = [
        f'<{request.url.path}?{urlencode(asked.at_page(n))}>; rel="{rel}"'
        for n, rel in ((found.page + 1, "next"), (found.page - 1, "prev"))
        if 1 <= n <= found.pages
    ]
    if links:
        headers["Link"] = ", ".join(links)
    courses = [
        CoursePublic.of(course, university.code, university.name, city.name)
        for course, university, city in found.rows
    ]
    return COURSES.dump_json(courses), headers


@router.get("/courses/{code}/qr.svg", name="courses:qr")
def qr_svg(request: Request, course: PublicCourse):
    return _qr(qr.svg(_share_url(request, course.code)), "image/svg+xml")


@router.get("/courses/{code}/qr.png", name="courses:qr_png")
def qr_png(request: Request, course: PublicCourse):
    return _qr(qr.png(_share_url(request, course.code)), "image/png")


def _share_url(request: Request, code: str) -> str:
    path = request.app.url_path_for("courses:public", code=code)
    return qr.course_url(request.app.state.settings.public_url, path)


def _qr(body: bytes, media_type: str) -> Response:
    # A course's address never changes: a poster's printer or a chat may keep the image a day.
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


def _found(request: Request, session: Session, asked: CatalogFilter) -> search.Page:
    today = clock.today()
    return cache.of(request.app).get(
        ("courses", asked, today), lambda: search.find(session, asked, today)
    )


def _choices(request: Request, session: Session) -> dict[str, list[tuple[str, str]]]:
    """The filters' drop-downs, (value, label), in the request's language."""

    def load() -> tuple[list[City], list[University]]:
        cities = session.exec(select(City).order_by(col(City.code)))
        universities = session.exec(select(University).order_by(col(University.code)))
        return list(cities), list(universities)

    cities, universities = cache.of(request.app).get(("choices",), load)
    chinese = current_language() == "zh"
    return {
        "city": [(c.code, c.name if chinese else c.name_en) for c in cities],
        "university": [(u.code, u.name) for u in universities],
        "mode": [(m, gettext(name)) for m, name in MODE_NAMES.items()],
        "cluster": [(c, gettext(name)) for c, name in CLUSTER_NAMES.items()],
    }


def _read(query: Mapping[str, Any]) -> tuple[CatalogFilter, dict[str, str], dict[str, str]]:
    return read_filters(CatalogFilter, query, FIELDS)
