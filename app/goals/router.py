from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app import clock
from app.auth.deps import AdminUser, ApiAdmin, ApiPrincipal, load_user
from app.auth.models import User
from app.courses import service as courses
from app.db import SessionDep, id_of
from app.errors import Invalid, NotFound
from app.exports.files import download
from app.goals import dashboard, home_cache, report, service, targets
from app.goals.definitions import FIGURES
from app.goals.models import GoalPlanPublic, GoalPlanUpdate
from app.goals.report_pdf import print_report
from app.i18n import N_
from app.universities.deps import StaffUniversity
from app.universities.models import University
from app.web import FormDep, render, submit, templates

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["goals"])
# Every page names the figures from the one list (templates/goals/_figures.html).
templates.env.globals["goal_figures"] = FIGURES


def _measure(request: Request, allowed: tuple[str, ...]) -> str:
    asked = request.query_params.get("map", "")
    return asked if asked in allowed else allowed[0]


@router.get("/", name="goals:home")
def home(request: Request, session: SessionDep):
    today = clock.today()

    def figures() -> tuple[dict, list, list]:
        summary = dashboard.summary(session, request.app.state.settings, today)
        return summary, service.by_city(session), courses.list_open(session, today, limit=6)

    # The same for everyone, kept a few seconds (app/goals/home_cache.py): under a crowd the
    # page is rendered, not counted again, for each visitor.
    summary, rows, catalog = home_cache.of(request.app).get(("home", today), figures)
    return render(
        request,
        "goals/home.html",
        {
            **summary,
            **dashboard.city_map(rows, "talents"),
            "catalog": catalog,
            "city_progress": rows,
        },
    )


def _report_form(month: str | None = None, errors: dict | None = None) -> dict:
    """The monthly report's form: the month asked for, else the last complete one."""
    value = month if month is not None else f"{report.default_month(clock.today()):%Y-%m}"
    return {"values": {"month": value}, "errors": errors or {}}


def _dashboard_page(
    request: Request, session, form: dict, status_code: int = 200, report_form=None
):
    settings = request.app.state.settings
    context = dashboard.alliance(
        session, settings, clock.today(), _measure(request, dashboard.MAP_MEASURES)
    )
    context["plan_saved"] = targets.is_saved(context["plan"])
    context["saved_by"] = _who(session, context["plan"].updated_by)
    context["report_form"] = report_form or _report_form()
    return render(request, "goals/dashboard.html", {**context, "form": form}, status_code)


def _who(session, actor: str) -> str:
    """An account's email for "user:<id>" (the audit log's name for people), else as it is."""
    kind, _, number = actor.partition(":")
    user = session.get(User, int(number)) if kind == "user" and number.isdigit() else None
    return user.email if user else actor


def _plan_values(plan) -> dict[str, str]:
    return {f: str(getattr(plan, f)) for f in targets.FIELDS}


@router.get("/admin/goals", name="goals:dashboard")
def admin_dashboard(request: Request, session: SessionDep, user: AdminUser):
    plan = targets.current(session, request.app.state.settings)
    return _dashboard_page(request, session, {"values": _plan_values(plan), "errors": {}})


@router.post("/admin/goals", name="goals:plan")
def save_plan(request: Request, session: SessionDep, user: AdminUser, form: FormDep):
    return submit(
        request,
        session,
        form,
        GoalPlanUpdate,
        lambda data: targets.update(
            session, data, settings=request.app.state.settings, actor=user.actor
        ),
        again=lambda values, errors: _dashboard_page(
            request, session, {"values": values, "errors": errors}, 422
        ),
        done=str(request.url_for("goals:dashboard")),
        flash=N_("Targets and campaign period saved"),
    )


@router.get("/admin/goals/report.pdf", name="goals:report")
def admin_report(request: Request, session: SessionDep, user: AdminUser, month: str | None = None):
    """The alliance's monthly report as one A4 page; a bad month: the dashboard again, the
    reason beside the month's field."""
    try:
        return _report(request, session, month, None)
    except Invalid as exc:
        plan = targets.current(session, request.app.state.settings)
        form = {"values": _plan_values(plan), "errors": {}}
        return _dashboard_page(
            request, session, form, 422, _report_form(month, exc.field_messages())
        )


@router.get("/staff/goals/report.pdf", name="goals:staff_report")
def staff_report(
    request: Request, session: SessionDep, university: StaffUniversity, month: str | None = None
):
    """A university's part of the monthly report, for its own staff."""
    try:
        return _report(request, session, month, university)
    except Invalid as exc:
        form = _report_form(month, exc.field_messages())
        return _staff_page(request, session, university, form, 422)


def _report(request: Request, session, month: str | None, university: University | None):
    settings = request.app.state.settings
    plan = targets.current(session, settings)
    if month is None:  # the last complete month, checked too: the period may start later
        month = f"{report.default_month(clock.today()):%Y-%m}"
    first = report.parse_month(month, today=clock.today(), starts_on=plan.starts_on)
    if university is None:
        context = report.alliance(session, settings, first)
    else:
        context = report.university(session, settings, id_of(university), first)
    printed = print_report(context, university)
    return download(printed.content, "application/pdf", printed.filename, printed.ascii_name)


@router.get("/staff/goals", name="goals:staff")
def staff_dashboard(request: Request, session: SessionDep, university: StaffUniversity):
    return _staff_page(request, session, university)


def _staff_page(
    request: Request, session, university: University, report_form=None, status_code: int = 200
):
    context = dashboard.university(
        session,
        request.app.state.settings,
        id_of(university),
        clock.today(),
        _measure(request, ("talents", "companies")),
    )
    context["report_form"] = report_form or _report_form()
    context["university"] = university
    return render(request, "goals/staff.html", context, status_code)


def _pace_json(p) -> dict:
    return {
        "state": p.state,
        "expected": p.expected,
        "reaches_on": p.reaches_on.isoformat() if p.reaches_on else None,
    }


@api.get("/goals")
def goals_json(request: Request, session: SessionDep):
    """The three goals against their targets and the campaign period's pace (`pace.state`:
    reached, on_track, behind, not_started or ended; `reaches_on`: when today's rate reaches
    the target, null when not before the period ends)."""
    context = dashboard.summary(session, request.app.state.settings, clock.today())
    goals, paces, plan = context["goals"], context["paces"], context["plan"]
    body: dict = {
        k: {"count": goals[k].count, "target": goals[k].target, "pace": _pace_json(paces[k])}
        for k in ("universities", "companies", "talents")
    }
    body["enrolled"] = {"count": goals["enrolled"].count}
    body["period"] = {"starts_on": plan.starts_on.isoformat(), "ends_on": plan.ends_on.isoformat()}
    return body


@api.get("/goals/plan", response_model=GoalPlanPublic)
def plan_json(request: Request, session: SessionDep):
    """The targets and the campaign period in force (the settings' defaults until saved)."""
    plan = targets.current(session, request.app.state.settings)
    return GoalPlanPublic.model_validate(plan, from_attributes=True).model_copy(
        update={"updated_at": plan.updated_at if targets.is_saved(plan) else None}
    )


@api.put("/goals/plan", response_model=GoalPlanPublic)
def save_plan_json(
    request: Request, session: SessionDep, principal: ApiAdmin, data: GoalPlanUpdate
):
    """Set the targets and the campaign period (an administrator's token); audited."""
    plan = targets.update(session, data, settings=request.app.state.settings, actor=principal.actor)
    session.commit()
    return GoalPlanPublic.model_validate(plan, from_attributes=True)


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


@api.get(
    "/goals/report.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "One A4 page"},
        422: {"description": "Not a month, a month not ended yet, or one before the period"},
        503: {"description": "This server lacks a font or HarfBuzz: the message names the package"},
    },
)
def report_json_twin(
    request: Request, session: SessionDep, principal: ApiPrincipal, month: str | None = None
):
    """The monthly report as a PDF (`month`: YYYY-MM, default the last complete month, China
    time): the alliance's for an administrator's token, its own part for a university's."""
    university = None
    if not principal.is_admin:
        university = session.get(University, principal.university_id)
        if university is None:  # a token whose university is gone: nothing to report on
            raise NotFound(N_("No university has this code"))
    return _report(request, session, month, university)
