"""Every row of an upload classified against what is recorded, and what saving it would write.

No writes here: service.py keeps the batch and saves its plan. The row's own fields are checked
by checks.py; what needs the database (is the ID number enrolled in the course, under this
name, is its completion certified) is checked here, for a whole file at once.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import db
from app.certificates.models import Certificate
from app.completions import checks, parsing
from app.completions.models import Completion
from app.courses.models import Course
from app.db import id_of
from app.enrollments.models import Enrollment
from app.i18n import N_
from app.security import keys_of
from app.text import masked
from app.trainees import validators
from app.trainees.models import Trainee
from app.universities.models import University

LOOKUP_CHUNK = 2000  # one key a parameter: far under both limits, and a quarter the queries
# error: the row's own fields are wrong, or nothing matches it; conflict: it contradicts what
# is recorded (another name, a certified completion, itself elsewhere in the file); failed: a
# failing grade, which is no completion.
# skipped: no completion date nor score, so nothing to record (a trainee who has not completed).
STATUSES = ("new", "changed", "unchanged", "conflict", "failed", "skipped", "error")


@dataclass
class Outcome:
    line: int
    status: str  # one of STATUSES
    field: str = ""
    message: str = ""
    course_code: str = ""
    holder: str = ""  # the trainee's name, masked
    id_number: str = ""  # masked
    # A 15-digit first-generation number converted to 18 digits: the 18 digits, masked.
    converted: str = ""
    params: dict[str, str] | None = None  # the message's
    # A changed row: what is recorded and what the file says ({"completed_on", "result"}).
    old: dict[str, str] | None = None
    new: dict[str, str] | None = None


@dataclass
class Plan:
    outcomes: list[Outcome] = field(default_factory=list)
    inserts: list[dict] = field(default_factory=list)
    # Each with what the completion held when previewed (was_*): saving changes it only if
    # it still does, and undoing puts it back.
    updates: list[dict] = field(default_factory=list)
    # A roster's own writes (trainees, companies, enrollments), as roster.py plans them.
    extra: dict = field(default_factory=dict)


def classify(
    session: Session, university: University, rows: list[parsing.Row], today: date
) -> Plan:
    courses = {
        c.code: c for c in session.exec(select(Course).where(Course.university_id == university.id))
    }
    plan = Plan()
    passed: list[tuple[int, checks.Checked]] = []
    for row in rows:
        result = checks.check_row(row, courses, today)
        if isinstance(result, checks.Refusal):
            plan.outcomes.append(
                Outcome(
                    row.line,
                    "skipped" if result is checks.BLANK else "error",
                    result.field,
                    result.message,
                    course_code=row.values.get("course_code", "")[:32],
                    holder=validators.mask_name(row.values.get("name", "")[:64]),
                    id_number=masked(row.values.get("id_number", "")[:32]),
                )
            )
        else:
            passed.append((row.line, result))
    keys = keys_of(session)
    hashes = {n: keys.lookup_hash(n) for n in dict.fromkeys(c.id_number for _, c in passed)}
    with db.custom_plans(session):  # chunked look-ups: see app.db.custom_plans
        known = load_state(session, list(hashes.values()), [id_of(c) for c in courses.values()])
    seen: dict[int, tuple] = {}
    for line, values in passed:
        plan.outcomes.append(_match(line, values, hashes, known, seen, plan))
    plan.outcomes.sort(key=lambda o: o.line)
    return plan


class Known:
    """An enrollment as the look-up found it, with its trainee's name, completion and
    certificate. Slots: a 100,000-row file makes 100,000 of them."""

    __slots__ = (
        "id_hash",
        "name",
        "course_id",
        "trainee_id",
        "company_id",
        "status",
        "enrollment_id",
        "completion_id",
        "completed_on",
        "score",
        "grade",
        "completion_batch_id",
        "certificate_id",
    )

    def __init__(self, trainee, enrollment, completion, certificate_id: int | None):
        self.id_hash, self.name = trainee.id_hash, trainee.name
        self.course_id, self.trainee_id = enrollment.course_id, enrollment.trainee_id
        self.company_id, self.status = enrollment.company_id, enrollment.status
        self.enrollment_id = enrollment.id
        self.completion_id = completion.id if completion else None
        self.completed_on = completion.completed_on if completion else None
        self.score = completion.score if completion else None
        self.grade = completion.grade if completion else None
        self.completion_batch_id = completion.batch_id if completion else None
        self.certificate_id = certificate_id


def load_state(session: Session, hashes: list[str], course_ids: list[int]) -> dict:
    """(id_hash, course_id) -> the Known enrollment.

    One table at a time, each by its own index: the trainees by ID hash, then their
    enrollments, completions and certificates by key, joined here. A join in SQL leaves its
    order to the planner, and without statistics (a new database, or one just filled) SQLite
    drove it from the course index, reading every enrollment of the course for each chunk of
    hashes: 92 ms a chunk instead of a few. Plain column rows are several times cheaper than
    ORM objects."""
    wanted = set(course_ids)
    known = {}
    # Core on the session's connection: the ORM's result machinery doubled the cost.
    connection = session.connection()
    for i in range(0, len(hashes), LOOKUP_CHUNK):
        trainees = {
            t.id: t
            for t in connection.execute(
                sa_select(col(Trainee.id), col(Trainee.id_hash), col(Trainee.name)).where(
                    db.among(session, col(Trainee.id_hash), hashes[i : i + LOOKUP_CHUNK])
                )
            )
        }
        if not trainees:
            continue
        # A trainee has a few enrollments: the course is picked here, so that no index on
        # the course can tempt the planner.
        enrollments = [
            e
            for e in connection.execute(
                sa_select(
                    col(Enrollment.id),
                    col(Enrollment.course_id),
                    col(Enrollment.trainee_id),
                    col(Enrollment.company_id),
                    col(Enrollment.status),
                ).where(db.among(session, col(Enrollment.trainee_id), list(trainees)))
            )
            if e.course_id in wanted
        ]
        completions = {
            c.enrollment_id: c
            for c in connection.execute(
                sa_select(
                    col(Completion.id),
                    col(Completion.enrollment_id),
                    col(Completion.completed_on),
                    col(Completion.score),
                    col(Completion.grade),
                    col(Completion.batch_id),
                ).where(
                    db.among(session, col(Completion.enrollment_id), [e.id for e in enrollments])
                )
            )
        }
        certificates = {}
        if completions:
            certificates = {
                c.completion_id: c.id
                for c in connection.execute(
                    sa_select(col(Certificate.id), col(Certificate.completion_id))
                    .where(
                        db.among(
                            session,
                            col(Certificate.completion_id),
                            [c.id for c in completions.values()],
                        )
                    )
                    .order_by(col(Certificate.id))
                )
            }
        for e in enrollments:
            trainee, done = trainees[e.trainee_id], completions.get(e.id)
            found = Known(trainee, e, done, certificates.get(done.id) if done else None)
            known[(trainee.id_hash, e.course_id)] = found
    return known


def _match(
    line: int,
    values: checks.Checked,
    hashes: dict[str, str],
    known: dict,
    seen: dict[int, tuple],
    plan: Plan,
) -> Outcome:
    """The checks that need the database, on a row whose own fields passed checks.check_row."""
    course = values.course
    out = Outcome(line, "error", course_code=course.code, id_number=masked(values.id_number))
    if values.converted_from_15:
        out.converted = masked(values.id_number)
    found = known.get((hashes[values.id_number], course.id))
    out.holder = validators.mask_name(found.name if found is not None else values.name)
    if found is None:
        out.field, out.message = "id_number", N_("This ID number is not enrolled in this course")
        return out
    if values.name and values.name != found.name:
        out.status, out.field = "conflict", "name"
        out.message = N_("The name does not match the enrollment")
        return out
    if found.status != "enrolled":
        out.field, out.message = "id_number", N_("This enrollment was withdrawn")
        return out
    key = (values.completed_on, values.score, values.grade, values.passed)
    if found.enrollment_id in seen:
        if seen[found.enrollment_id] == key:
            out.status = "unchanged"
        else:
            out.status, out.field = "conflict", "id_number"
            out.message = N_("The same trainee and course appear twice with different data")
        return out
    seen[found.enrollment_id] = key
    if not values.passed:
        return failing_grade(out, found, values)
    return plan_completion(out, found, values, plan)


def failing_grade(out: Outcome, found, values: checks.Checked) -> Outcome:
    out.field, out.params = "score", {"grade": values.grade or ""}
    if found.completion_id is not None:
        # Never a silent withdrawal: the completion stays until its upload is undone.
        out.status = "conflict"
        out.message = N_(
            "A failing grade (%(grade)s), but a completion is recorded for this trainee: "
            "undo the upload that recorded it if it was wrong"
        )
    else:
        out.status = "failed"
        out.message = N_("A failing grade (%(grade)s): not a completion, not counted")
    return out


def plan_completion(out: Outcome, found, values: checks.Checked, plan: Plan) -> Outcome:
    course = values.course
    fields = {"completed_on": values.completed_on, "score": values.score, "grade": values.grade}
    if found.completion_id is None:
        plan.inserts.append(
            {
                "enrollment_id": found.enrollment_id,
                "course_id": course.id,
                "university_id": course.university_id,
                "trainee_id": found.trainee_id,
                "company_id": found.company_id,
                "hours": course.hours,
                **fields,
            }
        )
        out.status = "new"
        return out
    recorded = (found.completed_on, _dec(found.score), found.grade)
    if recorded == (values.completed_on, _dec(values.score), values.grade):
        out.status = "unchanged"
        return out
    out.old = _shown(found.completed_on, found.score, found.grade)
    out.new = _shown(values.completed_on, values.score, values.grade)
    if found.certificate_id is not None:
        out.status, out.field = "conflict", "completed_on"
        out.message = N_("A certificate was already issued for this completion; it cannot change")
        return out
    plan.updates.append(
        {
            "b_id": found.completion_id,
            **fields,
            "was_completed_on": found.completed_on,
            "was_score": found.score,
            "was_grade": found.grade,
            "was_batch_id": found.completion_batch_id,
        }
    )
    out.status = "changed"
    return out


def _shown(completed_on: date, score, grade: str | None) -> dict[str, str]:
    result = grade or ("" if score is None else f"{_dec(score):f}")
    return {"completed_on": completed_on.isoformat(), "result": result}


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value).normalize()
