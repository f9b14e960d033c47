"""A roster's plan saved, and a saved roster undone.

Core executemany inserts, never an ORM object a row: a 100,000-row roster is a few statements
a table. Saving is optimistic, as service.write_completions is: it writes only if the database can still
take what was previewed, else service.Stale and nothing is written. A trainee or company
registered since (their unique keys), an enrollment made since (one per trainee and course)
fail the insert, which service.save turns into Stale; a course filled up since is checked here.
"""

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app import clock, db
from app.companies.models import Company
from app.completions import service
from app.completions.models import Completion, CompletionBatch
from app.completions.service import CHUNK, Plan, Stale
from app.courses.models import Course
from app.db import id_of
from app.enrollments.models import CONSENT_VERSION, Enrollment
from app.errors import Conflict
from app.goals import tally
from app.i18n import N_
from app.trainees.models import Trainee

# Who collected the consent of a roster's trainees: their university, on paper or through
# their employer, as the clerk confirms on the preview (the form's are "web" and "api").
CHANNEL = "offline"
# Enrollment numbers as enrollments.new_enrollment_no makes them, 64 random bits at once:
# secrets.choice eight times a number took 7 s for 100,000.
_NO_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # 32 characters: a byte's low 5 bits pick one
# Past this many rows the planner's statistics are brought up to date (db.optimize).
_LARGE = 1_000


def write(session: Session, plan: Plan, batch_id: int, *, now: datetime) -> None:
    extra = plan.extra
    planned: list[dict] = extra.get("enrollments", [])
    courses = _take_seats(session, {int(k): n for k, n in extra.get("seats", {}).items()})
    made_companies = extra.get("companies", [])
    company_ids = _insert(session, Company, [{**c, "created_at": now} for c in made_companies])
    companies = {c["uscc"]: id_ for c, id_ in zip(made_companies, company_ids, strict=True)}
    made_trainees = extra.get("trainees", [])
    trainee_ids = _insert(
        session, Trainee, [{**t, "created_at": now, "updated_at": now} for t in made_trainees]
    )
    trainees = {t["id_hash"]: id_ for t, id_ in zip(made_trainees, trainee_ids, strict=True)}
    service.write_completions(
        session, plan, batch_id
    )  # the completions of trainees enrolled before
    # Trainees and companies the preview found are named by id: one deleted since (another
    # roster undone) fails the insert on its foreign key, and so the save.
    for e in planned:
        e["trainee_id"] = e["trainee_id"] or trainees[e["id_hash"]]
        e["company_id"] = e["company_id"] or companies[e["uscc"]]
    with db.custom_plans(session):
        numbers = _enrollment_numbers(session, len(planned), clock.today())
    enrollment_ids = _insert(
        session,
        Enrollment,
        [
            {
                "enrollment_no": no,
                "course_id": e["course_id"],
                "trainee_id": e["trainee_id"],
                "company_id": e["company_id"],
                "status": "enrolled",
                "consent_version": CONSENT_VERSION,
                "consent_at": now,
                "consent_channel": CHANNEL,
                "share_with_employer": False,
                "mobile_encrypted": e["mobile_encrypted"],
                "mobile_masked": e["mobile_masked"],
                "created_at": now,
            }
            for no, e in zip(numbers, planned, strict=True)
        ],
    )
    completions = [
        {
            "enrollment_id": enrollment_id,
            "course_id": e["course_id"],
            "university_id": courses[e["course_id"]].university_id,
            "trainee_id": e["trainee_id"],
            "company_id": e["company_id"],
            "hours": courses[e["course_id"]].hours,
            "completed_on": date.fromisoformat(e["completed_on"]),
            "score": None if e["score"] is None else Decimal(e["score"]),
            "grade": e["grade"],
            "batch_id": batch_id,
            "created_at": now,
            "updated_at": now,
        }
        for enrollment_id, e in zip(enrollment_ids, planned, strict=True)
        if e["completed_on"]
    ]
    _insert(session, Completion, completions, ids=False)
    tally.enrollments_added(session, db.among(session, col(Enrollment.id), enrollment_ids))
    done = [c["enrollment_id"] for c in completions]
    tally.completions_added(session, db.among(session, col(Completion.enrollment_id), done))
    made = {
        "enrollments": sorted(enrollment_ids),
        "trainees": sorted(trainee_ids),
        "companies": sorted(company_ids),
    }
    _keep_what_was_made(session, plan, batch_id, completions, made)
    if len(planned) + len(plan.inserts) >= _LARGE:
        db.optimize(session, (*db.UPLOAD_TABLES, "company"))


def _take_seats(session: Session, seats: dict[int, int]) -> dict[int, Course]:
    """Each course's seats in one atomic UPDATE, as the form takes one: Stale when a course
    no longer has them (others enrolled since the preview)."""
    courses: dict[int, Course] = {}
    for course_id, n in sorted(seats.items()):  # in id order, so two saves cannot deadlock
        taken = session.connection().execute(
            update(Course)
            .where(col(Course.id) == course_id, col(Course.seats_taken) + n <= col(Course.capacity))
            .values(seats_taken=col(Course.seats_taken) + n)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise Stale()
        course = session.get(Course, course_id)
        assert course is not None
        courses[course_id] = course
    return courses


def _insert(session: Session, model: Any, rows: list[dict], *, ids: bool = True) -> list[int]:
    """Core executemany on the table (the ORM's bulk insert matches every row's keys to the
    model first); with ids, the rows get theirs first, in the order of rows, so no look-up
    follows. Looked up after the insert, PostgreSQL took 26 s for 20,000 enrollments: the
    look-up's statement, prepared while the table was small, kept its plan of scanning it
    all; RETURNING made the inserts 2.5 times slower."""
    if not rows:
        return []
    new = _new_ids(session, model, len(rows)) if ids else []
    if ids:
        rows = [{**row, "id": id_} for row, id_ in zip(rows, new, strict=True)]
    db.insert_rows(session, model.__table__, rows)
    return new


def _new_ids(session: Session, model: Any, n: int) -> list[int]:
    connection = session.connection()
    table = model.__table__.name
    if connection.dialect.name == "postgresql":
        return list(
            connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table, "n": n},
            ).scalars()
        )
    # SQLite: this transaction writes already (it claimed the batch and took the seats), so
    # it holds the one write lock and nobody can insert between these ids and the insert.
    top = connection.execute(sa_select(func.max(col(model.id)))).scalar_one() or 0
    return list(range(top + 1, top + n + 1))


def _ids(session: Session, model: Any, column, keys: list[str]) -> dict[str, int]:
    """key -> id, by the column's unique index."""
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), CHUNK):
        query = sa_select(col(model.id), column).where(column.in_(unique[i : i + CHUNK]))
        found.update((key, id_) for id_, key in session.execute(query))
    return found


def _enrollment_numbers(session: Session, n: int, today: date) -> list[str]:
    """n numbers no enrollment has: random, so a collision is rare, but with 100,000 new ones
    beside as many recorded it would come once in a hundred saves, failing the whole roster."""
    numbers: set[str] = set()
    while len(numbers) < n:
        fresh = {_number(today) for _ in range(n - len(numbers))} - numbers
        fresh -= set(_ids(session, Enrollment, col(Enrollment.enrollment_no), list(fresh)))
        numbers |= fresh
    return list(numbers)


def _number(today: date) -> str:
    return f"BM{today:%y}" + "".join(_NO_ALPHABET[b & 31] for b in secrets.token_bytes(8))


def _keep_what_was_made(
    session: Session, plan: Plan, batch_id: int, completions: list[dict], made: dict
) -> None:
    """The batch's plan becomes what undoing needs: every completion it recorded (by
    enrollment), what it changed, and the ids of what it created. The encrypted ID numbers
    and mobiles of the preview are dropped: the rows hold them now."""
    kept = Plan(
        inserts=[*plan.inserts, *({"enrollment_id": c["enrollment_id"]} for c in completions)],
        updates=plan.updates,
        extra={"created": made},
    )
    session.connection().execute(
        update(CompletionBatch)
        .where(col(CompletionBatch.id) == batch_id)
        .values(plan=service.dump_plan(kept))
        .execution_options(synchronize_session=False)
    )


def undo(session: Session, plan: Plan, batch: CompletionBatch, *, now: datetime) -> dict[str, int]:
    """Withdraw what the roster made: its completions deleted (the ones it changed put back),
    its enrollments deleted and their seats returned, then the trainees and companies it
    created, unless something else refers to them now. Refused while any of its completions
    has a certificate, or a later upload recorded or changed one."""
    made = plan.extra.get("created", {})
    inserted = service.completions_of(
        session, [r["enrollment_id"] for r in plan.inserts], by="enrollment"
    )
    changed = service.completions_of(session, [u["b_id"] for u in plan.updates], by="id")
    if (
        any(row.batch_id != batch.id for row in [*inserted, *changed])
        or len(inserted) != len(plan.inserts)
        or _recorded_since(session, made.get("enrollments", []), id_of(batch))
    ):
        raise Conflict(
            N_("A later upload changed some of this upload's rows: undo that upload first")
        )
    ids = [row.id for row in [*inserted, *changed]]
    if service.certified(session, ids, issued_only=False):
        raise Conflict(
            N_("Some of this upload's completions have certificates, so it cannot be undone")
        )
    service.delete_completions(session, [row.id for row in inserted])
    service.put_back(session, plan.updates, now)
    enrollments = _delete_enrollments(session, made.get("enrollments", []))
    trainees = _delete_unused(session, Trainee, made.get("trainees", []), [Enrollment.trainee_id])
    companies = _delete_unused(
        session,
        Company,
        made.get("companies", []),
        [Enrollment.company_id, Completion.company_id],
    )
    return {
        "withdrawn": len(inserted),
        "restored": len(changed),
        "enrollments": enrollments,
        "trainees": trainees,
        "companies": companies,
    }


def _recorded_since(session: Session, enrollment_ids: list[int], batch_id: int) -> bool:
    """A completion another upload recorded for an enrollment this roster made."""
    for start in range(0, len(enrollment_ids), CHUNK):
        query = sa_select(func.count()).where(
            col(Completion.enrollment_id).in_(enrollment_ids[start : start + CHUNK]),
            col(Completion.batch_id).is_distinct_from(batch_id),
        )
        if session.execute(query).scalar_one():
            return True
    return False


def _delete_enrollments(session: Session, enrollment_ids: list[int]) -> int:
    tally.enrollments_removed(session, db.among(session, col(Enrollment.id), enrollment_ids))
    seats: dict[int, int] = {}
    for start in range(0, len(enrollment_ids), CHUNK):
        chunk = enrollment_ids[start : start + CHUNK]
        for course_id, n in session.execute(
            sa_select(col(Enrollment.course_id), func.count())
            .where(col(Enrollment.id).in_(chunk))
            .group_by(col(Enrollment.course_id))
        ):
            seats[course_id] = seats.get(course_id, 0) + n
        session.execute(delete(Enrollment).where(col(Enrollment.id).in_(chunk)))
    for course_id, n in sorted(seats.items()):
        session.connection().execute(
            update(Course)
            .where(col(Course.id) == course_id)
            .values(seats_taken=col(Course.seats_taken) - n)
            .execution_options(synchronize_session=False)
        )
    return sum(seats.values())


def _delete_unused(session: Session, model: Any, ids: list[int], references: list) -> int:
    """The rows among ids that nothing refers to any more (an enrollment made since, by the
    form or another roster, keeps its trainee and company)."""
    deleted = 0
    for start in range(0, len(ids), CHUNK):
        unused = [
            ~sa_select(reference).where(reference == col(model.id)).exists()
            for reference in references
        ]
        result = session.connection().execute(
            delete(model)
            .where(col(model.id).in_(ids[start : start + CHUNK]), *unused)
            .execution_options(synchronize_session=False)
        )
        deleted += result.rowcount
    return deleted
