from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.auth.deps import load_user, require_user
from app.auth.models import User
from app.db import SessionDep
from app.jobs import pages, service
from app.jobs.deps import ApiOwnJob, OwnJob
from app.middleware import SCRIPT_CSP
from app.web import render

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["jobs"])
# The job page alone runs one script, /static/jobs.js, which polls its JSON twin: the site's
# policy with scripts from this origin allowed, still no inline script.


@router.get("/jobs", name="jobs:list")
def job_list(request: Request, session: SessionDep, user: Annotated[User, Depends(require_user)]):
    jobs = service.recent(session, university_id=user.university_id, admin=user.is_admin)
    rows = [(job, pages.kind_label(job)) for job in jobs]
    return render(request, "jobs/list.html", {"rows": rows, "states": pages.STATES})


# Before /jobs/{job_id}: that pattern would take "7.json" as the id.
@router.get("/jobs/{job_id}.json", name="jobs:json")
def job_json(request: Request, session: SessionDep, job: OwnJob):
    """The page's script reads this with the session cookie (the page has no bearer token)."""
    return JSONResponse(_jsonable(pages.summary(request, session, job)))


@router.get("/jobs/{job_id}", name="jobs:show")
def show(request: Request, session: SessionDep, job: OwnJob):
    response = render(
        request, "jobs/show.html", {"job": job, "view": pages.summary(request, session, job)}
    )
    response.headers["Content-Security-Policy"] = SCRIPT_CSP
    return response


@api.get("/jobs/{job_id}")
def job_api(request: Request, session: SessionDep, job: ApiOwnJob):
    """A job's state and progress (done and failed of total), its failed items and reasons."""
    return _jsonable(pages.summary(request, session, job))


def _jsonable(view: dict) -> dict:
    times = ("created_at", "started_at", "finished_at")
    return {k: (v.isoformat() if k in times and v else v) for k, v in view.items()}
