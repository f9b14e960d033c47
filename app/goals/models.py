"""The plan the goals are measured against: three targets and the campaign period."""

import unicodedata
from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.i18n import N_

# Beyond this a target is a typo (an extra zero or three), not a plan: Shandong has about
# 100 universities and the plan counts thousands of trainees.
MAX_TARGET = 1_000_000
TARGETS = ("universities", "companies", "talents")


class GoalPlanBase(SQLModel):
    universities: int = Field(gt=0, le=MAX_TARGET)
    companies: int = Field(gt=0, le=MAX_TARGET)
    talents: int = Field(gt=0, le=MAX_TARGET)
    starts_on: date
    ends_on: date


class GoalPlan(GoalPlanBase, table=True):
    """One row (id 1) once an administrator saved the plan; until then the settings'
    targets and targets.DEFAULT_PERIOD apply."""

    __tablename__ = "goal_plan"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(
            "universities > 0 AND companies > 0 AND talents > 0", name="positive_targets"
        ),
        CheckConstraint("ends_on > starts_on", name="period"),
    )

    id: int = Field(default=1, primary_key=True)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=40)


class GoalPlanUpdate(GoalPlanBase):
    """What the administrator's form and PUT /api/v1/goals/plan send."""

    @field_validator(*TARGETS, mode="before")
    @classmethod
    def _digits(cls, value):
        # Typed on a Chinese keyboard: full-width digits, thousands separators ("5,000").
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value)
            for separator in (",", "，", " ", "_"):
                value = value.replace(separator, "")
        return value

    @field_validator("starts_on", "ends_on")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not 2000 <= value.year <= 2100:
            raise ValueError(N_("Enter a date between 2000 and 2100"))
        return value


class GoalPlanPublic(GoalPlanBase):
    updated_at: datetime | None = None
    updated_by: str = ""
