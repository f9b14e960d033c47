"""Rosters: trainees who enrolled offline (signed up by their employer or on paper), uploaded by
their university with the same preview as completions. A row enrolls the trainee (and makes the
trainee and the company when new); a row with a completion date records the completion too.

A row is checked as the public form checks an enrollment (the same validators, the same name
rule, capacity), with these differences, since the university itself vouches for the row:
- the enrollment window does not apply: a roster often records a course after the fact, and
  the window only keeps the public from signing up late; capacity still does;
- consent is the university's, confirmed once for the file on the preview (channel "offline");
- a course of another university is an error on the row, never an enrollment there.

Classifying writes nothing: what saving would create (trainees, companies, enrollments, the
completions of new enrollments) is planned in Plan.extra, ID numbers and mobiles already
encrypted, and the completions of trainees enrolled before are classified exactly as a
completions upload does (classify.failing_grade and classify.plan_completion). Saving is roster_writes.py.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import db
from app.companies import service as companies
from app.companies import validators as uscc_validators
from app.companies.models import Company
from app.completions import checks, parsing
from app.completions import classify as classification
from app.completions.roster_writes import undo, write
from app.completions.service import CHUNK, Outcome, Plan
from app.courses.models import Course
from app.db import id_of
from app.fields import has_control_chars
from app.i18n import N_
from app.security import keys_of
from app.text import masked, without_pasted_invisibles
from app.trainees import validators
from app.trainees.models import Trainee
from app.universities.models import University

__all__ = ["COLUMNS", "classify", "parse", "undo", "write"]

_ALIASES = {
    "name": ("姓名", "学员姓名", "name"),
    "id_number": parsing.ID_NUMBER_HEADERS,
    "mobile": ("手机号", "手机号码", "手机", "联系电话", "mobile", "phone"),
    "company_uscc": (
        "工作单位统一社会信用代码",
        "单位统一社会信用代码",
        "统一社会信用代码",
        "信用代码",
        "uscc",
        "companyuscc",
    ),
    "company_name": ("工作单位名称", "工作单位", "单位名称", "企业名称", "companyname"),
    "course_code": ("课程代码", "课程编号", "coursecode"),
    "completed_on": ("结业日期", "结业时间", "完成日期", "completedon", "completiondate"),
    "score": ("成绩", "分数", "score"),
}
_LABELS = {
    "name": "姓名 / name",
    "id_number": "身份证号 / id_number",
    "mobile": "手机号 / mobile",
    "company_uscc": "工作单位统一社会信用代码 / company_uscc",
    "company_name": "工作单位名称 / company_name",
    "course_code": "课程代码 / course_code",
}
COLUMNS = parsing.ColumnSpec(
    field_of={alias: name for name, aliases in _ALIASES.items() for alias in aliases},
    required=tuple(_LABELS),
    labels=_LABELS,
)
# What Excel writes into a CSV after it turned an ID into a number (as checks.py has it).
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")
REGISTERED_ELSEWHERE = N_(
    "This ID number is registered under another name: %(name)s. If the trainee's name "
    "changed, ask the administrator to correct it first"
)


def parse(filename: str, data: bytes, *, encoding: str | None = None) -> parsing.ParsedFile:
    return parsing.parse_completion_file(filename, data, encoding=encoding, spec=COLUMNS)


@dataclass(frozen=True)
class _Entry:
    """A row whose own fields passed: who, where they work, which course."""

    line: int
    id_number: str
    id_hash: str
    name: str
    mobile: str
    uscc: str
    company_name: str
    course: Course
    done: checks.Checked | None  # the completion, when the row has a date

    @property
    def same(self) -> tuple:
        """What two rows of one trainee and course must agree on to be one row twice."""
        done = self.done and (self.done.completed_on, self.done.score, self.done.grade)
        return (self.name.casefold(), self.mobile, self.uscc, done)


def classify(
    session: Session, university: University, rows: list[parsing.Row], today: date
) -> Plan:
    courses = {
        c.code: c for c in session.exec(select(Course).where(Course.university_id == university.id))
    }
    plan = Plan()
    planner = _Planner(session, plan, courses.values())
    entries: list[_Entry] = []
    for row in rows:
        checked = _check(row, courses, today, planner)
        if isinstance(checked, checks.Refusal):
            plan.outcomes.append(_refused(row, checked))
        else:
            entries.append(checked)
    with db.custom_plans(session):
        planner.load(entries)
    for entry in entries:
        plan.outcomes.append(planner.place(entry))
    plan.outcomes.sort(key=lambda o: o.line)
    plan.extra = planner.extra()
    return plan


def _refused(row: parsing.Row, refusal: checks.Refusal) -> Outcome:
    v = row.values
    return Outcome(
        row.line,
        "error",
        refusal.field,
        refusal.message,
        course_code=v.get("course_code", "")[:32],
        holder=validators.mask_name(v.get("name", "")[:64]),
        id_number=masked(v.get("id_number", "")[:32]),
    )


def _check(
    row: parsing.Row, courses: dict[str, Course], today: date, planner: "_Planner"
) -> "_Entry | checks.Refusal":
    """The row's own fields, as the public form checks them, in the order the report names
    the first problem; the completion part exactly as a completions upload checks it."""
    v = row.values
    if row.id_is_number or _SCIENTIFIC.fullmatch(v.get("id_number", "")):
        return checks.Refusal("id_number", checks.NUMERIC_ID)
    try:
        id_number = validators.parse_id_number(v.get("id_number", ""), today=today).number
        name = _name(v.get("name", ""))
        mobile = validators.normalize_mobile(v.get("mobile", ""))
    except validators.InvalidIdNumber as exc:
        return checks.Refusal("id_number", exc.message)
    except validators.InvalidName as exc:
        return checks.Refusal("name", exc.message)
    except validators.InvalidMobile as exc:
        return checks.Refusal("mobile", exc.message)
    try:
        uscc = planner.uscc(v.get("company_uscc", ""))
    except uscc_validators.InvalidUscc as exc:
        return checks.Refusal("company_uscc", exc.message)
    company_name = without_pasted_invisibles(v.get("company_name", "")).strip()
    if has_control_chars(company_name):
        return checks.Refusal(
            "company_name", N_("This field contains invisible control characters")
        )
    course = courses.get(v.get("course_code", "").strip().upper())
    if course is None:
        return checks.Refusal("course_code", N_("No course of your university has this code"))
    done = None
    if v.get("completed_on", "").strip():
        completion = checks.check_row(row, courses, today)  # the ID, course and name pass again
        if isinstance(completion, checks.Refusal):
            return completion
        done = completion
    elif v.get("score", "").strip():
        return checks.Refusal(
            "completed_on", N_("A score or grade needs the completion date beside it")
        )
    return _Entry(
        row.line,
        id_number,
        planner.hash_of(id_number),
        name,
        mobile,
        uscc,
        company_name[:100],
        course,
        done,
    )


def _name(raw: str) -> str:
    if "?" in raw or "\ufffd" in raw:
        # GBK has no room for rare characters such as 䶮: Excel's "CSV" writes "?" instead.
        raise validators.InvalidName(
            N_('The name has lost characters ("?"): save the file as "CSV UTF-8" or XLSX')
        )
    return validators.normalize_name(raw)


class _Planner:
    """What the database holds for the file's trainees, companies and courses, and what saving
    would add to it, row by row in file order (the first rows take the last seats)."""

    def __init__(self, session: Session, plan: Plan, courses: Iterable[Course]):
        self.session, self.plan, self.keys = session, plan, keys_of(session)
        self.seats_left = {id_of(c): max(c.capacity - c.seats_taken, 0) for c in courses}
        self.seats: dict[int, int] = {}  # course id -> seats this file takes
        self.hashes: dict[str, str] = {}
        self.usccs: dict[str, str] = {}  # as typed -> normalised (a file names few companies)
        self.registered: dict[str, tuple[int, str]] = {}  # ID hash -> (trainee id, name)
        self.companies: dict[str, int] = {}  # USCC -> company id
        self.known: dict = {}  # (ID hash, course id) -> enrollment, as classify.load_state has it
        self.new_trainees: dict[str, dict] = {}  # ID hash -> the trainee row to insert
        self.new_companies: dict[str, dict] = {}  # USCC -> the company row to insert
        self.enrollments: list[dict] = []
        self.seen: dict[tuple[str, int], tuple] = {}  # (ID hash, course id) -> _Entry.same
        self.cities: dict[str, str | None] = {}

    def hash_of(self, id_number: str) -> str:
        if id_number not in self.hashes:
            self.hashes[id_number] = self.keys.lookup_hash(id_number)
        return self.hashes[id_number]

    def uscc(self, raw: str) -> str:
        if raw not in self.usccs:
            self.usccs[raw] = uscc_validators.normalize_uscc(raw)  # InvalidUscc: not kept
        return self.usccs[raw]

    def load(self, entries: list[_Entry]) -> None:
        """One query a chunk of keys, by the table's own unique index."""
        hashes = list(dict.fromkeys(e.id_hash for e in entries))
        for i in range(0, len(hashes), CHUNK):
            trainees = sa_select(col(Trainee.id), col(Trainee.id_hash), col(Trainee.name))
            chunk = hashes[i : i + CHUNK]
            for t in self.session.execute(trainees.where(col(Trainee.id_hash).in_(chunk))):
                self.registered[t.id_hash] = (t.id, t.name)
        usccs = list(dict.fromkeys(e.uscc for e in entries))
        for i in range(0, len(usccs), CHUNK):
            known = sa_select(col(Company.id), col(Company.uscc))
            for c in self.session.execute(known.where(col(Company.uscc).in_(usccs[i : i + CHUNK]))):
                self.companies[c.uscc] = c.id
        if self.registered:
            self.known = classification.load_state(
                self.session, list(self.registered), list(self.seats_left)
            )

    def place(self, e: _Entry) -> Outcome:
        out = Outcome(
            e.line,
            "error",
            course_code=e.course.code,
            holder=validators.mask_name(e.name),
            id_number=masked(e.id_number),
        )
        registered = self.registered.get(e.id_hash)
        recorded = registered[1] if registered else self.new_trainees.get(e.id_hash, {}).get("name")
        # Someone who holds a roster must not rename an ID number's holder, as on the form.
        if recorded is not None and recorded.casefold() != e.name.casefold():
            out.status, out.field = "conflict", "name"
            out.params = {"name": validators.mask_name(recorded)}
            out.message = (
                REGISTERED_ELSEWHERE
                if registered
                else N_("This ID number appears on an earlier row under another name: %(name)s")
            )
            return out
        key = (e.id_hash, id_of(e.course))
        if key in self.seen:
            if self.seen[key] == e.same:
                out.status = "unchanged"
            else:
                out.status, out.field = "conflict", "id_number"
                out.message = N_("The same trainee and course appear twice with different data")
            return out
        found = self.known.get(key)
        out = self._enrolled(out, found, e) if found is not None else self._enroll(out, e)
        if out.status != "error":
            self.seen[key] = e.same
        return out

    def _enrolled(self, out: Outcome, found, e: _Entry) -> Outcome:
        """Enrolled before: nothing to enroll; a completion is classified as a completions
        upload classifies it (new, changed, unchanged, a failing grade, a certified one)."""
        if found.status != "enrolled":
            out.field, out.message = "id_number", N_("This enrollment was withdrawn")
            return out
        if e.done is None:
            out.status = "unchanged"
            return out
        if not e.done.passed:
            return classification.failing_grade(out, found, e.done)
        return classification.plan_completion(out, found, e.done, self.plan)

    def _enroll(self, out: Outcome, e: _Entry) -> Outcome:
        course_id = id_of(e.course)
        if e.uscc not in self.companies and e.uscc not in self.new_companies:
            if len(e.company_name) < 2:
                out.field = "company_name"
                out.message = N_("This company is new to us: enter its full name")
                return out
        if self.seats_left[course_id] == 0:
            out.field, out.message = "course_code", N_("This course is full")
            return out
        self.seats_left[course_id] -= 1
        self.seats[course_id] = self.seats.get(course_id, 0) + 1
        if e.id_hash not in self.registered and e.id_hash not in self.new_trainees:
            self.new_trainees[e.id_hash] = {
                "id_hash": e.id_hash,
                "id_encrypted": self.keys.encrypt(e.id_number),
                "id_masked": masked(e.id_number),
                "name": e.name,
            }
        if e.uscc not in self.companies and e.uscc not in self.new_companies:
            self.new_companies[e.uscc] = {
                "uscc": e.uscc,
                "name": e.company_name,
                "city_code": self._city(e.uscc),
            }
        done = e.done if e.done is not None and e.done.passed else None
        registered = self.registered.get(e.id_hash)
        self.enrollments.append(
            {
                "course_id": course_id,
                "id_hash": e.id_hash,
                "trainee_id": registered[0] if registered else None,  # None: made at saving
                "uscc": e.uscc,
                "company_id": self.companies.get(e.uscc),
                "mobile_encrypted": self.keys.encrypt(e.mobile),
                "mobile_masked": masked(e.mobile),
                "completed_on": done and done.completed_on,
                "score": done and done.score,
                "grade": done and done.grade,
            }
        )
        out.status = "new"
        if e.done is not None and not e.done.passed:
            # One row, two effects: the enrollment is what it saves, so it is "new"; the
            # grade is said beside it and counts nowhere, as a completions upload has it.
            out.field, out.params = "score", {"grade": e.done.grade or ""}
            out.message = N_(
                "Enrolled; a failing grade (%(grade)s) is no completion: none is recorded"
            )
        return out

    def _city(self, uscc: str) -> str | None:
        region = uscc[2:6]
        if region not in self.cities:
            self.cities[region] = companies.city_of(self.session, uscc)
        return self.cities[region]

    def extra(self) -> dict:
        return {
            "trainees": list(self.new_trainees.values()),
            "companies": list(self.new_companies.values()),
            "enrollments": self.enrollments,
            "seats": {str(course_id): n for course_id, n in self.seats.items()},
        }
