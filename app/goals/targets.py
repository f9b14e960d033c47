"""The plan's targets and campaign period, as an administrator last saved them.

Until an administrator saves the plan on /admin/goals (or PUT /api/v1/goals/plan), the targets
are the settings' (DANDELION_GOAL_UNIVERSITIES, _COMPANIES, _TALENTS: 50, 500 and 5,000) and
the campaign period is DEFAULT_PERIOD, 1 January 2026 to 31 December 2027.
"""

from datetime import date

from sqlmodel import Session

from app.audit import service as audit
from app.config import Settings
from app.db import add_or_get, utcnow
from app.errors import Invalid
from app.goals.models import TARGETS, GoalPlan, GoalPlanUpdate
from app.i18n import N_

DEFAULT_PERIOD = (date(2026, 1, 1), date(2027, 12, 31))
# A longer "campaign" is a mistyped year; the monthly chart would be a comb of bars too.
MAX_PERIOD_DAYS = 10 * 366
FIELDS = (*TARGETS, "starts_on", "ends_on")


def defaults(settings: Settings) -> GoalPlan:
    starts_on, ends_on = DEFAULT_PERIOD
    return GoalPlan(
        universities=settings.goal_universities,
        companies=settings.goal_companies,
        talents=settings.goal_talents,
        starts_on=starts_on,
        ends_on=ends_on,
        updated_by="",
    )


def current(session: Session, settings: Settings) -> GoalPlan:
    """The plan in force: the saved one, else the defaults (not stored)."""
    return session.get(GoalPlan, 1) or defaults(settings)


def is_saved(plan: GoalPlan) -> bool:
    return bool(plan.updated_by)


def update(session: Session, data: GoalPlanUpdate, *, settings: Settings, actor: str) -> GoalPlan:
    if data.ends_on <= data.starts_on:
        raise Invalid([("ends_on", N_("The period must end after it starts"))])
    if (data.ends_on - data.starts_on).days > MAX_PERIOD_DAYS:
        raise Invalid([("ends_on", N_("A campaign period is at most 10 years"))])
    plan = session.get(GoalPlan, 1)
    if plan is None:
        plan = add_or_get(session, defaults(settings), lambda: session.get(GoalPlan, 1))
    before = {f: getattr(plan, f) for f in FIELDS}
    after = data.model_dump(include=set(FIELDS))
    for name, value in after.items():
        setattr(plan, name, value)
    plan.updated_at, plan.updated_by = utcnow(), actor
    session.add(plan)
    session.flush()
    changed = {f for f in FIELDS if before[f] != after[f]}
    audit.record(
        session,
        actor,
        "goals.plan",
        "goal_plan",
        plan.id,
        before={f: before[f] for f in sorted(changed)},
        after={f: after[f] for f in sorted(changed)},
    )
    return plan
