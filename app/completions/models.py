from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class CompletionBatch(SQLModel, table=True):
    """One uploaded file: who sent it, its fingerprint and what became of its rows."""

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
    rejected: int = 0
    # Row outcomes as JSON (line, status, field, message): the result page and the error download.
    report: str = Field(default="[]", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


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
    rows: int
    accepted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowProblem]
    converted: list[ConvertedIdNumber]
