from fastapi import APIRouter, Depends, Request

from app import clock
from app.auth.deps import load_user
from app.courses import service as courses
from app.db import SessionDep
from app.goals import service
from app.web import render

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["goals"])


@router.get("/", name="goals:home")
def home(request: Request, session: SessionDep):
    goals = service.count_all(session, request.app.state.settings)
    catalog = courses.list_open(session, clock.today())[:6]
    return render(
        request,
        "goals/home.html",
        {"goals": goals, "catalog": catalog, "city_progress": service.by_city(session)},
    )


@api.get("/goals")
def goals_json(request: Request, session: SessionDep):
    goals = service.count_all(session, request.app.state.settings)
    return {
        "universities": {
            "count": goals["universities"].count,
            "target": goals["universities"].target,
        },
        "companies": {"count": goals["companies"].count, "target": goals["companies"].target},
        "talents": {"count": goals["talents"].count, "target": goals["talents"].target},
        "enrolled": {"count": goals["enrolled"].count},
    }


@api.get("/goals/cities")
def goals_by_city(session: SessionDep):
    """The three goals per city (a company's trained staff count in the company's city)."""
    return [
        {
            "city_code": r.code,
            "city": r.name,
            "universities": r.universities,
            "companies": r.companies,
            "talents": r.talents,
        }
        for r in service.by_city(session)
    ]
