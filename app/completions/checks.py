"""Every check of one uploaded row's own fields, in one place, in the order that decides which
problem the report names first.

No database: the university's courses and today's date are handed in. Whether the ID number
is enrolled in the course, under this name, and whether its completion is certified needs the
database; those checks are of another kind and stay in classify._match, which sees only the rows
that pass these.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.completions.parsing import Row
from app.courses.models import Course
from app.i18n import N_
from app.trainees import validators

NUMERIC_ID = N_(
    "The ID number cell is a number, so Excel may have changed its digits: format the ID column "
    "as text and type it again"
)
# What Excel writes into a CSV after it turned an ID into a number: 3.70102E+17.
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str


@dataclass(frozen=True)
class Checked:
    """A row's values, ready to be matched with an enrollment."""

    id_number: str  # 18 characters, a 15-digit one converted
    converted_from_15: bool
    course: Course
    completed_on: date
    score: Decimal | None
    grade: str | None  # a passing grade, when the row has one rather than a number
    passed: bool  # False for a failing grade (不合格, fail): reported, never a completion
    name: str  # "" when the file has no name for the row


# A row with neither a completion date nor a score records nothing: the enrollment list a
# clerk downloads to fill in (app/completions/enrollment_list.py) comes back with rows for the
# trainees who have not completed.
BLANK = Refusal("completed_on", N_("No completion date: nothing is recorded for this row"))


def check_row(row: Row, courses: dict[str, Course], today: date) -> Checked | Refusal:
    """The row's values, or the first problem with them (BLANK: nothing to record)."""
    v = row.values
    if not v.get("completed_on", "").strip() and not v.get("score", "").strip():
        return BLANK
    if row.id_is_number or _SCIENTIFIC.fullmatch(v.get("id_number", "")):
        return Refusal("id_number", NUMERIC_ID)
    try:
        id_number = validators.parse_id_number(v.get("id_number", ""), allow_15=True, today=today)
    except validators.InvalidIdNumber as exc:
        return Refusal("id_number", str(exc))
    course = courses.get(v.get("course_code", "").strip().upper())
    if course is None:
        return Refusal("course_code", N_("No course of your university has this code"))
    try:
        completed_on = parse_date(v.get("completed_on", ""))
    except ValueError as exc:
        return Refusal("completed_on", str(exc))
    try:
        score, grade, passed = parse_result(v.get("score", ""))
    except ValueError as exc:
        return Refusal("score", str(exc))
    name, problem = _name(v.get("name", ""))
    if problem:
        return Refusal("name", problem)
    if completed_on > today or completed_on < course.starts_on:
        return Refusal(
            "completed_on", N_("The completion date must be between the course start and today")
        )
    return Checked(
        id_number.number,
        id_number.converted_from_15,
        course,
        completed_on,
        score,
        grade,
        passed,
        name,
    )


def _name(raw: str) -> tuple[str, str | None]:
    if not raw.strip():
        return "", None
    if "?" in raw or "\ufffd" in raw:
        # GBK has no room for rare characters such as 䶮: Excel's "CSV" writes "?" instead.
        return "", N_('The name has lost characters ("?"): save the file as "CSV UTF-8" or XLSX')
    try:
        return validators.normalize_name(raw), None
    except validators.InvalidName as exc:
        return "", str(exc)


_DATE_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
        r"(\d{4})()年(\d{1,2})月(\d{1,2})日?",
        r"(\d{4})()(\d{2})(\d{2})",
    )
)


def parse_date(value: str) -> date:
    text = unicodedata.normalize("NFKC", value).strip()  # full-width digits ２０２６ from IMEs
    if not text:
        raise ValueError(N_("The date is missing"))
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, _sep, month, day = match.groups()
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                raise ValueError(N_("This date does not exist")) from None
    raise ValueError(N_("The date is not understood: write it like 2026-05-01"))


_SCORE = re.compile(r"\d{1,3}(?:\.\d+)?")
_TENTH = Decimal("0.1")
# Grades as Chinese universities record them: five levels (优秀 ... 及格, 不及格), two (合格,
# 不合格) or pass/fail (通过, 不通过), and the English words. A passing grade is kept as
# written (the English in lower case); a failing one means no completion.
PASSING = ("优秀", "良好", "中等", "及格", "合格", "通过", "pass", "passed")
FAILING = ("不及格", "不合格", "不通过", "fail", "failed")


def parse_result(value: str) -> tuple[Decimal | None, str | None, bool]:
    """(score, grade, passed): a number from 0 to 100, a grade, or nothing (score is optional)."""
    text = unicodedata.normalize("NFKC", value).strip()
    word = text.lower()
    if word in PASSING:
        return None, "pass" if word == "passed" else word, True
    if word in FAILING:
        return None, text, False
    return parse_score(text), None, True


def parse_score(value: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", value).strip().removesuffix("分").strip()
    if not text:
        return None
    if not _SCORE.fullmatch(text) or Decimal(text) > 100:
        raise ValueError(
            N_(
                "The score must be a number from 0 to 100 or a grade: 优秀, 良好, 中等, 及格, "
                "合格, 通过, pass (passing) or 不及格, 不合格, 不通过, fail"
            )
        )
    score = Decimal(text)
    if score != score.quantize(_TENTH):
        raise ValueError(N_("The score may have at most one decimal place"))
    return score.quantize(_TENTH)
