import logging
from datetime import date
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from app.audit import service as audit
from app.cities.models import City
from app.courses.models import Course, CourseCertificateText, CourseCreate, CourseEdit
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.universities.models import University

log = logging.getLogger(__name__)
# What enrolled trainees are told about when it changes: where, when and how to ask.
TOLD = (
    "starts_on",
    "ends_on",
    "enroll_closes_on",
    "mode",
    "venue",
    "city_code",
    "schedule",
    "contact_name",
    "contact_phone",
    "contact_email",
)
WINDOW = ("starts_on", "ends_on", "enroll_closes_on", "is_draft")


class Dated(Protocol):
    """A course, or what a university typed for one."""

    ends_on: date
    enroll_closes_on: date | None
    is_draft: bool


def get_by_code(session: Session, code: str) -> Course:
    course = session.exec(select(Course).where(Course.code == code.strip().upper())).first()
    if course is None:
        raise NotFound(N_("No course has this code"))
    return course


def university_of(session: Session, course: Course) -> University:
    return session.get_one(University, course.university_id)


def city_of(session: Session, course: Course) -> City:
    """Where the course is taught (its university's city when none was set)."""
    code = course.city_code or university_of(session, course).city_code
    return session.get_one(City, code)


def closes_on(course: Dated) -> date:
    """The last day of enrollment: the day enrollment closes, and at the latest the end."""
    return min(course.enroll_closes_on or course.ends_on, course.ends_on)


def is_enrolling(course: Course, today: date) -> bool:
    """Taking enrollments today: not a draft, not closed by hand, its window not yet past.
    (Seats left or not: a full course is enrolling, and says it is full.)"""
    return not course.is_draft and course.is_open and today <= closes_on(course)


def enrolling(today: date) -> list:
    """is_enrolling, as SQL: not a draft, open, and today by the close."""
    return [
        col(Course.is_draft).is_(False),
        col(Course.is_open).is_(True),
        col(Course.ends_on) >= today,
        or_(col(Course.enroll_closes_on).is_(None), col(Course.enroll_closes_on) >= today),
    ]


def state_of(course: Course, today: date) -> str:
    """The course's state, in this order of precedence:

    - "draft": saved, never in the catalog, whatever its dates;
    - "finished": today is after ends_on;
    - "open": enrolling (see is_enrolling) with seats left;
    - "full": enrolling, no seat left;
    - "running": between starts_on and ends_on, no longer enrolling;
    - "closed": before its start and not enrolling: closed by hand, or its enrollment
      window (enroll_closes_on) has passed.
    """
    if course.is_draft:
        return "draft"
    if today > course.ends_on:
        return "finished"
    if is_enrolling(course, today):
        return "open" if course.seats_left > 0 else "full"
    return "running" if today >= course.starts_on else "closed"


def hidden_reason(course: Dated, today: date) -> str | None:
    """Why the catalog will not show a course, or None when it may: a draft, or an
    enrollment window already past."""
    if course.is_draft:
        return N_("This is a draft: it will not appear in the catalog. Confirm to save it.")
    if closes_on(course) < today:
        return N_(
            "Enrollment closes on %(date)s, before today: this course will not appear in the "
            "catalog. Confirm to save it."
        )
    return None


def _confirmed(data: CourseEdit, today: date) -> None:
    reason = hidden_reason(data, today)
    if reason and not data.confirm_hidden:
        raise Invalid([("confirm_hidden", reason)], params={"date": closes_on(data)})


def list_open(
    session: Session, today: date, limit: int | None = None
) -> list[tuple[Course, University, City]]:
    """Courses still taking enrollments, soonest first (the first `limit` of them)."""
    return list(
        session.exec(
            select(Course, University, City)
            .join(University, col(Course.university_id) == University.id)
            .join(City, col(University.city_code) == City.code)
            .where(*enrolling(today))
            .order_by(col(Course.starts_on), col(Course.code))
            .limit(limit)
        )
    )


def list_for_university(session: Session, university_id: int) -> list[Course]:
    return list(
        session.exec(
            select(Course)
            .where(Course.university_id == university_id)
            .order_by(col(Course.starts_on).desc())
        )
    )


def _city(session: Session, code: str | None, university: University) -> str:
    if code is None:
        return university.city_code
    if session.get(City, code) is None:
        raise Invalid([("city_code", N_("Choose one of Shandong's cities"))])
    return code


def create(
    session: Session,
    *,
    university: University,
    data: CourseCreate,
    actor: str,
    today: date,
) -> Course:
    """A new course, taught in the university's city unless another is given. A course the
    catalog would not show is refused unless data.confirm_hidden says the university knows."""
    taken = Conflict(N_("A course with this code already exists"), field="code")
    city_code = _city(session, data.city_code, university)
    _confirmed(data, today)
    if session.exec(select(Course.id).where(Course.code == data.code)).first():
        raise taken
    course = Course.model_validate(
        data.model_dump(exclude={"confirm_hidden"}),
        update={"university_id": university.id, "city_code": city_code},
    )
    session.add(course)
    try:
        session.flush()
    except IntegrityError as exc:  # the same code, created a moment ago by someone else
        raise taken from exc
    audit.record(session, actor, "course.create", "course", course.id)
    return course


def update_certificate_text(
    session: Session, course: Course, data: CourseCertificateText, *, actor: str
) -> Course:
    """Certificates already issued keep what they printed; the next ones print this."""
    for name, value in data.model_dump().items():
        setattr(course, name, value)
    session.add(course)
    session.flush()
    audit.record(
        session, actor, "course.certificate_text", "course", course.id, **data.model_dump()
    )
    return course


def update(
    session: Session, course: Course, data: CourseEdit, *, actor: str, today: date
) -> dict[str, tuple[Any, Any]]:
    """Apply a university's edit; the changes as {field: (before, after)}, audited with both.
    With trainees enrolled, the capacity never falls below the seats taken, a date never moves
    from today or later into the past, and the trainees are told what changed."""
    after = data.model_dump(exclude={"confirm_hidden", "code"})
    after["city_code"] = _city(session, data.city_code, university_of(session, course))
    changes = {
        name: (getattr(course, name), value)
        for name, value in after.items()
        if getattr(course, name) != value
    }
    _check_edit(course, data, changes, today)
    if "capacity" in changes:
        _set_capacity(session, course, data.capacity)
    for name, (_, value) in changes.items():
        setattr(course, name, value)
    session.add(course)
    session.flush()
    if changes:
        detail = {name: {"before": b, "after": a} for name, (b, a) in changes.items()}
        audit.record(session, actor, "course.update", "course", course.id, **detail)
        notify_enrolled(session, course, changes)
    return changes


def _check_edit(course: Course, data: CourseEdit, changes: dict, today: date) -> None:
    errors: list[tuple[str, str]] = []
    code = getattr(data, "code", None)
    if code is not None and code.strip().upper() != course.code:
        errors.append(
            ("code", N_("A course's code cannot change: links and certificates carry it"))
        )
    if data.capacity < course.seats_taken:
        errors.append(
            ("capacity", N_("%(taken)s trainees are enrolled: the capacity cannot be lower"))
        )
    if course.seats_taken:
        for name in ("starts_on", "ends_on"):
            before, after = getattr(course, name), getattr(data, name)
            if name in changes and before >= today > after:
                errors.append(
                    (name, N_("Trainees are enrolled: this date cannot move into the past"))
                )
    if errors:
        raise Invalid(errors, params={"taken": course.seats_taken})
    hidden_now = hidden_reason(course, today)
    if any(name in changes for name in WINDOW) or hidden_now is None:
        _confirmed(data, today)


def _set_capacity(session: Session, course: Course, capacity: int) -> None:
    # One conditional UPDATE: a seat taken a moment ago by another request is counted.
    result = cast(
        CursorResult[Any],
        session.execute(
            sa.update(Course)
            .where(col(Course.id) == course.id, col(Course.seats_taken) <= capacity)
            .values(capacity=capacity)
        ),
    )
    if result.rowcount != 1:
        session.refresh(course)
        raise Invalid(
            [("capacity", N_("%(taken)s trainees are enrolled: the capacity cannot be lower"))],
            params={"taken": course.seats_taken},
        )


def notify_enrolled(session: Session, course: Course, changes: dict[str, tuple[Any, Any]]) -> None:
    """Tell the trainees enrolled in the course what changed about where, when and whom to ask.
    Until the trust issue's notification sender exists (it replaces this body, and will read
    the enrollments through the session), one log line per change: the course, the field and
    how many are enrolled, never a trainee's ID number or mobile, nor the office's phone."""
    if not course.seats_taken:
        return
    for name in (n for n in TOLD if n in changes):
        before, after = changes[name]
        shown = f": {before} -> {after}" if name.endswith("_on") or name == "mode" else ""
        log.info(
            "course %s changed %s%s; %d enrolled trainees to tell",
            course.code,
            name,
            shown,
            course.seats_taken,
        )


def set_open(session: Session, course: Course, is_open: bool, *, actor: str) -> Course:
    """Close or reopen enrollment by hand (the window's dates still apply when reopened)."""
    if course.is_open != is_open:
        course.is_open = is_open
        session.add(course)
        session.flush()
        action = "course.reopen" if is_open else "course.close"
        audit.record(session, actor, action, "course", course.id)
    return course
