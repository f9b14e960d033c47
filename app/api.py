"""The JSON API: twins of the pages, documented at /docs with the errors each call can give."""

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.auth.deps import api_principal
from app.catalog.router import api as catalog
from app.certificates.prints import api as certificate_prints
from app.certificates.router import api as certificates
from app.certificates.staff import api as certificate_staff
from app.companies.router import api as companies
from app.completions.router import api as completions
from app.courses.router import api as courses
from app.enrollments.router import api as enrollments
from app.exports.router import api as exports
from app.goals.router import api as goals
from app.jobs.router import api as jobs
from app.universities.router import api as universities


class Detail(BaseModel):
    """Every error but a field error: one message, in the caller's language."""

    detail: str


class FieldError(BaseModel):
    field: str
    message: str


class FieldErrors(BaseModel):
    """What is wrong, field by field (the body's own fields, or "body")."""

    errors: list[FieldError]


_MEANING = {
    401: "No bearer token, or one that is not valid",
    403: "The token may not do this, or the request came from another site's page",
    404: "Nothing has this code or serial",
    409: "This conflicts with what is stored (a duplicate, a full or closed course)",
    413: "The body is larger than the upload limit",
    422: "Field errors",
    410: "The certificate was revoked or replaced: the body says when and why, or by which",
    429: "Too many attempts from this address; try again later",
}

# Errors that come from the business rules, which a route's signature does not show.
_RULES = {
    ("POST", "/universities"): {409},
    ("GET", "/courses"): {422},  # the catalog's filters
    ("POST", "/courses"): {409},
    ("PUT", "/courses/{code}"): {404},  # another university's course is a 404 too
    ("POST", "/enrollments"): {404, 409, 429},
    ("POST", "/completions"): {409},
    ("POST", "/courses/{code}/certificates"): {404},
    ("POST", "/courses/{code}/prints"): {404, 422},  # 422: nothing to print, a serial not its
    ("GET", "/prints/{job_id}/pdf"): {404, 409, 422},  # 409: not finished yet
    ("GET", "/certificates/{serial}"): {404, 422},
    ("GET", "/certificates/{serial}/pdf"): {404, 410, 422},
    ("POST", "/certificates/{serial}/revoke"): {404, 409},
    ("POST", "/certificates/{serial}/reissue"): {404, 409, 422},
    ("POST", "/certificates/{serial}/name"): {404, 429},
    ("PATCH", "/companies/{uscc}"): {404},
    ("GET", "/companies/search"): {422},  # a search over 100 characters
    ("POST", "/companies/unconfirmed/{company_id}/match"): {404},  # or not the caller's to match
    ("GET", "/completions/batches/{batch_id}"): {404, 422},  # 422: an id out of range
    ("GET", "/jobs/{job_id}"): {404, 422},  # another university's job is a 404 too
}


def _calls(dependant) -> set:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _calls(sub)
    return calls


def _statuses(route: APIRoute) -> set[int]:
    methods = route.methods
    assert methods, f"{route.path} answers no method"  # typed optional; every APIRoute has some
    method = next(iter(methods))
    found = set().union(*(_RULES.get((m, route.path), set()) for m in methods))
    if api_principal in _calls(route.dependant):
        found |= {401, 403}
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        found.add(403)  # refused from another site's page (app/middleware.py)
    if route.body_field is not None:
        found |= {413, 422}
    return found


def _responses(route: APIRoute) -> dict:
    responses: dict = {
        s: {"model": FieldErrors if s == 422 else Detail, "description": _MEANING[s]}
        for s in sorted(_statuses(route))
    }
    # Any call can also fail unexpectedly (500). Saying so also stops FastAPI from adding its
    # own 422 schema, which is not what this API answers, to calls that cannot give one.
    responses["default"] = {"model": Detail, "description": "Any other error"}
    return responses


router = APIRouter()
for part in (
    universities,
    catalog,
    courses,
    enrollments,
    completions,
    certificates,
    certificate_staff,
    certificate_prints,
    goals,
    companies,
    jobs,
    exports,
):
    for route in part.routes:
        # The domains declare what succeeds; the errors each call can give are added in one place.
        if isinstance(route, APIRoute) and "default" not in route.responses:
            route.responses = {**_responses(route), **route.responses}
    router.include_router(part)
