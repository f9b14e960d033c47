"""The monthly report's figures: the goals, the cumulative months and the cities as they stood
at the end of one month.

Counted from the completion records dated up to the month's last day, not from the live
counters (app/goals/tally.py), which count every completion to date: a completion dated after
the month is left out, one dated within it but recorded later is in, one withdrawn since is
not. Counted as the goals are: distinct entities, a company and its trained staff in the
company's city, a university in its own.
"""

import re
import unicodedata
from datetime import date, timedelta

from sqlmodel import Session

from app.config import Settings
from app.errors import Invalid
from app.goals import breakdowns, charts, dashboard, targets
from app.goals.definitions import GOALS
from app.goals.pace import pace
from app.goals.service import Goal
from app.i18n import N_

# 2026-11, 2026-1, 2026/11, 2026.11, 2026年11月 (full-width digits too, after NFKC).
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")
NOT_A_MONTH = N_("Enter a month as year and month, such as %(example)s")
NOT_ENDED = N_("%(month)s has not ended yet: the latest month to report on is %(latest)s")
BEFORE_PERIOD = N_("The campaign period starts on %(starts_on)s: choose %(first)s or a later month")


def default_month(today: date) -> date:
    """The first day of the last complete month (China's today, from app.clock)."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_end(first: date) -> date:
    return charts.next_month(first) - timedelta(days=1)


def parse_month(text: str | None, *, today: date, starts_on: date) -> date:
    """The first day of the month typed, if it has ended and the campaign had started by its
    end; Invalid on the field "month" otherwise."""
    found = _MONTH.fullmatch(unicodedata.normalize("NFKC", text or "").strip())
    month = int(found.group(2)) if found else 0
    if not found or not 1 <= month <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise Invalid([("month", NOT_A_MONTH)], params={"example": f"{default_month(today):%Y-%m}"})
    first = date(int(found.group(1)), month, 1)
    latest = default_month(today)
    if first > latest:
        params = {"month": f"{first:%Y-%m}", "latest": f"{latest:%Y-%m}"}
        raise Invalid([("month", NOT_ENDED)], params=params)
    if month_end(first) < starts_on:
        params = {"starts_on": starts_on.isoformat(), "first": f"{starts_on:%Y-%m}"}
        raise Invalid([("month", BEFORE_PERIOD)], params=params)
    return first


def _firsts(session: Session, goal: str, until: date, university_id: int | None):
    return {
        day: n for day, n in breakdowns.firsts(session, goal, university_id).items() if day <= until
    }


def _monthly(firsts: dict, target: int | None, plan, until: date) -> charts.Cumulative:
    return charts.cumulative(
        firsts, target=target, starts_on=plan.starts_on, ends_on=plan.ends_on, today=until
    )


def _goals(session: Session, settings: Settings, until: date) -> dict:
    """The alliance's three goals at the month's end, their pace then, and their months."""
    plan = targets.current(session, settings)
    firsts = {k: _firsts(session, k, until, None) for k in GOALS}
    goals = {k: Goal(k, sum(firsts[k].values()), getattr(plan, k)) for k in GOALS}
    return {
        "plan": plan,
        "goals": goals,
        "paces": {
            k: pace(goals[k].count, goals[k].target or 1, plan.starts_on, plan.ends_on, until)
            for k in GOALS
        },
        "monthly": {k: _monthly(firsts[k], goals[k].target, plan, until) for k in GOALS},
    }


def alliance(session: Session, settings: Settings, first: date) -> dict:
    """The administrators' report of the month starting on `first`."""
    until = month_end(first)
    context = _goals(session, settings, until)
    rows = breakdowns.by_city(session, date_to=until)
    return {
        **context,
        "month": first,
        "month_end": until,
        "city_progress": rows,
        "city_columns": GOALS,
        **dashboard.city_map(rows, "talents"),
    }


def university(session: Session, settings: Settings, university_id: int, first: date) -> dict:
    """One university's report: its own part (its courses' completions) beside the alliance's
    goals, the months of its part and its part by city."""
    until = month_end(first)
    context = _goals(session, settings, until)
    part = ("companies", "talents")
    firsts = {k: _firsts(session, k, until, university_id) for k in GOALS}
    rows = breakdowns.by_city(session, university_id, date_to=until)
    return {
        **context,
        "month": first,
        "month_end": until,
        # Universities united: 1 when this university counts among them by the month's end.
        "part": {k: sum(firsts[k].values()) for k in GOALS},
        # No target line: the alliance's would flatten one university's part.
        "monthly": {k: _monthly(firsts[k], None, context["plan"], until) for k in part},
        "city_progress": rows,
        "city_columns": part,
        **dashboard.city_map(rows, "talents"),
    }
