"""What the goals' pages show, gathered: the figures with their pace, and the charts' geometry.
The alliance's dashboard (administrators), its public summary (the home page) and one
university's part (its staff) are built here from the same pieces."""

from datetime import date

from sqlmodel import Session

from app.companies.models import CLUSTER_NAMES
from app.config import Settings
from app.goals import breakdowns, charts, service, targets
from app.goals.definitions import GOALS
from app.goals.pace import pace
from app.i18n import N_, current_language, gettext

MAP_MEASURES = ("talents", "companies", "universities")
NO_CLUSTER = N_("Not filed under a cluster yet")


def _city_names(rows, measure: str) -> dict[str, tuple[str, int]]:
    english = current_language() != "zh"
    return {r.code: (r.name_en if english else r.name, getattr(r, measure)) for r in rows if r.code}


def summary(session: Session, settings: Settings, today: date) -> dict:
    """The goals against their targets and the period's pace: the home page's part."""
    plan = targets.current(session, settings)
    goals = service.count_all(session, settings, plan)
    paces = {
        k: pace(goals[k].count, goals[k].target or 1, plan.starts_on, plan.ends_on, today)
        for k in GOALS
    }
    return {"goals": goals, "plan": plan, "paces": paces, "today": today}


def city_map(rows, measure: str) -> dict:
    """The tile map of one measure, and what lies outside the 16 cities."""
    outside = sum(getattr(r, measure) for r in rows if r.code is None)
    return {
        "map": charts.tile_map(_city_names(rows, measure)),
        "measure": measure,
        "outside": outside,
    }


def _clusters(counted: dict[str | None, tuple[int, int]]) -> dict[str, charts.Bars]:
    named = [
        (gettext(CLUSTER_NAMES[c]) if c else gettext(NO_CLUSTER), companies, talents)
        for c, (companies, talents) in counted.items()
    ]
    return {
        measure: charts.bars(
            sorted(((name, row[i]) for name, *row in named), key=lambda r: (-r[1], r[0]))
        )
        for i, measure in enumerate(("companies", "talents"))
    }


def alliance(session: Session, settings: Settings, today: date, measure: str) -> dict:
    """The administrators' dashboard: the summary, the monthly chart and the breakdowns."""
    context = summary(session, settings, today)
    plan = context["plan"]
    rows = service.by_city(session)
    return {
        **context,
        "monthly": {
            k: charts.cumulative(
                breakdowns.firsts(session, k),
                target=context["goals"][k].target or 1,
                starts_on=plan.starts_on,
                ends_on=plan.ends_on,
                today=today,
            )
            for k in GOALS
        },
        "city_progress": rows,
        **city_map(rows, measure),
        "universities_chart": charts.bars(breakdowns.by_university(session)),
        "companies_chart": charts.bars(breakdowns.top_companies(session)),
        "clusters": _clusters(breakdowns.by_cluster(session)),
    }


def university(
    session: Session, settings: Settings, university_id: int, today: date, measure: str
) -> dict:
    """One university's part: its own figures, and the same charts over its completions."""
    context = summary(session, settings, today)
    plan = context["plan"]
    rows = breakdowns.by_city(session, university_id)
    return {
        **context,
        "part": breakdowns.university_figures(session, university_id),
        "monthly": {
            k: charts.cumulative(
                breakdowns.firsts(session, k, university_id),
                target=None,  # the alliance's target would flatten one university's part
                starts_on=plan.starts_on,
                ends_on=plan.ends_on,
                today=today,
            )
            for k in ("companies", "talents")
        },
        "city_progress": rows,
        **city_map(rows, measure),
        "companies_chart": charts.bars(breakdowns.top_companies(session, university_id)),
        "clusters": _clusters(breakdowns.by_cluster(session, university_id)),
    }
