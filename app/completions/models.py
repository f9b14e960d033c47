from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class CompletionBatch(SQLModel, table=True):
    """One uploaded file: who sent it, its fingerprint and what became of its rows.

    A batch is a preview until a clerk saves it (nothing in it counts before), then saved;
    a saved batch may be undone while none of its completions has a certificate.
    """

    __tablename__ = "completion_batch"

    id: int | None = Field(default=None, primary_key=True)
    university_id: int = Field(foreign_key="university.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    api_token_id: int | None = Field(default=None, foreign_key="api_token.id")
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size: int
    format: str = Field(max_length=8)
    encoding: str | None = Field(default=None, max_length=20)
    rows: int = 0
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows with an error or a conflict
    conflicts: int = 0  # of which contradict what is recorded
    failed: int = 0  # failing grades: no completion
    # Row outcomes as JSON (line, status, field, message): the result page and the error download.
    report: str = Field(default="[]", sa_type=Text)
    kind: str = Field(default="completions", max_length=12)  # completions | roster
    # A large file is read, and saved, by a background job: the latest, for its page.
    job_id: int | None = Field(default=None, foreign_key="job.id")
    state: str = Field(
        default="preview", max_length=12, index=True
    )  # queued|preview|saved|undone|discarded
    # What saving writes, and what each changed row held when previewed (service.Plan, JSON):
    # saving checks the database still holds that, so nothing changed since is overwritten.
    plan: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    saved_at: datetime | None = None
    saved_by: int | None = Field(default=None, foreign_key="user.id")
    undone_at: datetime | None = None
    undone_by: int | None = Field(default=None, foreign_key="user.id")


class Completion(SQLModel, table=True):
    """A university's statement that a trainee completed a course.

    The owning course, university, trainee and company are copied from the enrollment
    (which never changes them) so that goal counts are single-table COUNT DISTINCTs.
    """

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", unique=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    university_id: int = Field(foreign_key="university.id", index=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    completed_on: date
    hours: Decimal = Field(max_digits=6, decimal_places=1)
    score: Decimal | None = Field(default=None, max_digits=5, decimal_places=1)
    # A passing grade as the university records it (优秀, 合格, 通过, pass ...), for a row
    # with a grade rather than a number; failing grades are never completions.
    grade: str | None = Field(default=None, max_length=8)
    batch_id: int | None = Field(default=None, foreign_key="completion_batch.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RowProblem(SQLModel):
    row: int  # the line in the file, as Excel numbers it
    field: str
    message: str


class ConvertedIdNumber(SQLModel):
    row: int
    id_number: str  # the 18 digits a 15-digit number became, masked


class CompletionBatchPublic(SQLModel):
    """What became of an uploaded file, as the API answers it."""

    batch_id: int
    state: str  # saved (the API saves at once), or preview, undone, discarded for a page's
    rows: int
    accepted: int
    updated: int
    unchanged: int
    rejected: int  # errors and conflicts
    conflicts: int
    failed: int  # failing grades: not completions
    errors: list[RowProblem]
    converted: list[ConvertedIdNumber]


class RowOutcome(SQLModel):
    row: int
    status: str  # new | changed | unchanged | conflict | failed | error
    field: str | None = None
    message: str | None = None
    course_code: str | None = None
    holder: str | None = None  # the trainee's name, masked
    id_number: str | None = None  # masked
    old: dict[str, str] | None = None  # a changed row: what is recorded (completed_on, result)
    new: dict[str, str] | None = None  # and what the file says


class CompletionPreviewPublic(SQLModel):
    """A dry run: every row classified, nothing written."""

    rows: int
    counts: dict[str, int]
    outcomes: list[RowOutcome]
