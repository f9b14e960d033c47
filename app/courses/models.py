from datetime import date, datetime
from decimal import Decimal

from pydantic import ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import (
    Code,
    OptionalEnglishName,
    PlainText,
    Signatory,
)
from app.i18n import N_


class CourseBase(SQLModel):
    code: str = Field(max_length=30, unique=True, index=True)
    title: str = Field(max_length=120)
    hours: Decimal = Field(max_digits=6, decimal_places=1)
    capacity: int
    starts_on: date
    ends_on: date


class Course(CourseBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    university_id: int = Field(foreign_key="university.id", index=True)
    # Enrollments not withdrawn; kept beside capacity so that taking a seat is one atomic UPDATE.
    seats_taken: int = Field(default=0)
    enroll_closes_on: date | None = None
    is_open: bool = Field(default=True)
    title_en: str | None = Field(default=None, max_length=200)  # the certificate's English line
    # Who signs this course's certificates, when not the university's usual signatory.
    signatory_name: str | None = Field(default=None, max_length=50)
    signatory_title: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


# Courses of this activity run this century: year 1 or 9999 is a typo, never a plan.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class CourseCertificateText(Signatory):
    """What a course's certificates print besides the record, changeable after its creation:
    an English title for the English line, a signatory when not the university's usual one."""

    title_en: OptionalEnglishName = None


class CourseCreate(CourseCertificateText):
    # What a university types; the table's columns (CourseBase) carry the storage limits.
    code: Code = Field(max_length=30)
    title: PlainText = Field(min_length=2, max_length=120)
    hours: Decimal = Field(gt=0, le=1000, max_digits=6, decimal_places=1)
    capacity: int = Field(gt=0, le=100000)
    starts_on: date
    ends_on: date
    enroll_closes_on: date | None = None

    @field_validator("capacity", mode="before")
    @classmethod
    def _not_a_truth_value(cls, value):
        if isinstance(value, bool):  # JSON true would otherwise be a capacity of 1
            raise ValueError(N_("Enter a whole number"))
        return value

    @field_validator("hours")
    @classmethod
    def _plain_hours(cls, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.1"))  # "1E+2" is stored and shown as 100.0

    @field_validator("starts_on", "ends_on", "enroll_closes_on")
    @classmethod
    def _this_century(cls, value: date | None) -> date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(N_("Enter a date between 2000 and 2100"))
        return value

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, value: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on and value < starts_on:
            raise ValueError(N_("The end date is before the start date"))
        return value

    @field_validator("enroll_closes_on")
    @classmethod
    def _closes_by_end(cls, value: date | None, info: ValidationInfo) -> date | None:
        ends_on = info.data.get("ends_on")
        if value and ends_on and value > ends_on:
            raise ValueError(N_("Enrollment must close by the end date"))
        return value


class CoursePublic(CourseBase):
    title_en: str | None = None
    university_code: str
    university_name: str
    city: str
    seats_left: int
    enroll_closes_on: date | None
