"""What an export is asked for, by the form and by POST /api/v1/exports. Nothing is stored
but the job: its params hold the request (app/jobs/models.py)."""

import re
import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.fields import Code
from app.i18n import N_

GOALS, COMPLETIONS, ENROLLMENTS = "goals", "completions", "enrollments"
KINDS = (GOALS, COMPLETIONS, ENROLLMENTS)
RANGED = (GOALS, COMPLETIONS)  # counted over completions whose date falls in the range
FORMATS = ("xlsx", "csv")
# Typed rather than picked: 2026/3/31, 2026.3.31, 2026年3月31日, in full-width digits too.
_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class ExportCreate(BaseModel):
    """What to export: the goal summary or the completions and certificates of a date range
    (China dates, both ends included), or a course's enrollments; as XLSX or CSV; ID numbers
    masked unless full_ids (audited)."""

    kind: Literal["goals", "completions", "enrollments"]
    format: Literal["xlsx", "csv"] = "xlsx"
    # Checked even when left out (validate_default): the kind says whether they are needed.
    date_from: date | None = Field(default=None, validate_default=True)
    date_to: date | None = Field(default=None, validate_default=True)
    course_code: Code | None = Field(default=None, max_length=30, validate_default=True)
    full_ids: bool = False

    @field_validator("kind", "format", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _loose(cls, value):
        if not isinstance(value, str):
            return value
        typed = unicodedata.normalize("NFKC", value).strip()
        found = _LOOSE_DATE.fullmatch(typed)
        if not found:
            return typed or None
        try:
            return date(*map(int, found.groups()))
        except ValueError:
            raise ValueError(N_("There is no such day in the calendar")) from None

    @field_validator("date_from", "date_to")
    @classmethod
    def _plausible(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            if info.data.get("kind") in RANGED:
                raise ValueError(N_("Enter a date like 2026-05-01"))
            return None
        if not 2000 <= value.year <= 2100:
            raise ValueError(N_("Enter a date between 2000 and 2100"))
        start = info.data.get("date_from")
        if info.field_name == "date_to" and start is not None and value < start:
            raise ValueError(N_("The end date is before the start date"))
        return value

    @field_validator("course_code")
    @classmethod
    def _needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("kind") == ENROLLMENTS:
            raise ValueError(N_("Enter the code of the course whose enrollments to export"))
        return value
