from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    BeforeValidator,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import Field as Checked
from sqlmodel import Field, SQLModel

from app.companies.models import CLUSTERS, NOT_A_CLUSTER
from app.db import utcnow
from app.fields import (
    Code,
    OptionalEmail,
    OptionalEnglishName,
    PlainText,
    Signatory,
    has_control_chars,
)
from app.i18n import N_
from app.text import without_pasted_invisibles

# How a course is taught; pages show MODE_NAMES (message ids).
MODES = ("on_site", "online", "mixed")
MODE_NAMES = {"on_site": N_("On site"), "online": N_("Online"), "mixed": N_("On site and online")}
# A course's state as the staff list shows it (courses.service.state_of decides it).
STATE_NAMES = {
    "draft": N_("Draft"),
    "open": N_("Open for enrollment"),
    "full": N_("Full"),
    "closed": N_("Enrollment closed"),
    "running": N_("In progress"),
    "finished": N_("Ended"),
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class CourseBase(SQLModel):
    code: str = Field(max_length=30, unique=True, index=True)
    title: str = Field(max_length=120)
    hours: Decimal = Field(max_digits=6, decimal_places=1)
    capacity: int
    starts_on: date
    ends_on: date


class Course(CourseBase, table=True):
    # The database refuses any other mode or cluster: the catalog's filters must add up.
    __table_args__ = (
        sa.CheckConstraint(_in("mode", MODES), name="mode"),
        sa.CheckConstraint(_in("cluster", CLUSTERS), name="cluster"),
    )

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
    # What a trainee decides by. Texts are plain (shown escaped, blank lines as paragraphs).
    description: str | None = Field(default=None, sa_type=sa.Text)
    mode: str = Field(
        default="on_site", max_length=10, sa_column_kwargs={"server_default": "on_site"}
    )
    venue: str | None = Field(default=None, max_length=200)
    # Where it is taught, for the catalog's city filter: the university's city unless changed.
    city_code: str | None = Field(default=None, foreign_key="city.code", max_length=4, index=True)
    schedule: str | None = Field(default=None, sa_type=sa.Text)
    # The university office trainees ask (never a trainee's own details).
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=30)
    contact_email: str | None = Field(default=None, max_length=254)
    audience: str | None = Field(default=None, max_length=500)
    cluster: str | None = Field(default=None, max_length=30)  # the industry it serves
    # Saved but not in the catalog, whatever its dates.
    is_draft: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


# Courses of this activity run this century: year 1 or 9999 is a typo, never a plan.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class CourseCertificateText(Signatory):
    """What a course's certificates print besides the record, changeable after its creation:
    an English title for the English line, a signatory when not the university's usual one."""

    title_en: OptionalEnglishName = None


def _text_block(value: object) -> object:
    # A textarea sends \r\n: one line break is one character, and an empty text is none given.
    if isinstance(value, str):
        value = without_pasted_invisibles(value.replace("\r\n", "\n").replace("\r", "\n"))
        return value if value.strip() else None
    return value


def _no_controls(value: str) -> str:
    if has_control_chars(value):
        raise ValueError(N_("This field contains invisible control characters"))
    return value


def _phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7 or any(not (ch.isdigit() or ch in " +-()转") for ch in value):
        raise ValueError(N_("Enter a phone number, e.g. 0531-89631234"))
    return value


def _limit(n: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, max_length=n)


# Optional plain texts, each with its limit checked first (so "too long" is the message).
Before, After = BeforeValidator(_text_block), AfterValidator(_no_controls)
Description = Annotated[Annotated[str, _limit(5000), After] | None, Before]
Schedule = Annotated[Annotated[str, _limit(2000), After] | None, Before]
Audience = Annotated[Annotated[str, _limit(500), After] | None, Before]
Venue = Annotated[Annotated[str, _limit(200), After] | None, Before]
ContactName = Annotated[Annotated[str, _limit(50), After] | None, Before]
Phone = Annotated[Annotated[str, _limit(30), After, AfterValidator(_phone)] | None, Before]
Choice = Annotated[Annotated[str, _limit(30)] | None, Before]


class CourseEdit(CourseCertificateText):
    """What a university types, on creation and on each edit (the code never changes: links
    and certificates carry it). The table's columns (CourseBase) carry the storage limits.

    confirm_hidden: true when the university knows the course will not appear in the catalog
    (a draft, or an enrollment window already past) and saves it anyway; without it such a
    course is refused with a field error on confirm_hidden, so it is never hidden silently."""

    title: PlainText = Field(min_length=2, max_length=120)
    hours: Decimal = Field(gt=0, le=1000, max_digits=6, decimal_places=1)
    capacity: int = Field(gt=0, le=100000)
    starts_on: date
    ends_on: date
    enroll_closes_on: date | None = None
    description: Description = None
    mode: str = "on_site"
    venue: Venue = None
    city_code: Choice = None  # the university's city when not given
    schedule: Schedule = None
    contact_name: ContactName = None
    contact_email: OptionalEmail = None
    contact_phone: Phone = None
    audience: Audience = None
    cluster: Choice = None
    is_draft: bool = False
    confirm_hidden: bool = False

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

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value not in MODES:
            raise ValueError(N_("Choose on site, online or both"))
        return value

    @field_validator("cluster")
    @classmethod
    def _known_cluster(cls, value: str | None) -> str | None:
        if value is not None and value not in CLUSTERS:
            raise ValueError(NOT_A_CLUSTER)
        return value


class CourseCreate(CourseEdit):
    code: Code = Field(max_length=30)


class CourseUpdate(CourseEdit):
    """The API's edit (PUT): every field of the course again, as on creation. code may be
    sent, as read from the course, but never changed (links and certificates carry it)."""

    code: str | None = Field(default=None, max_length=30)


class _ContactRequired(SQLModel):
    """The course form asks how trainees reach the university's office: a phone or an email.
    (The API leaves both optional: a university's own system may not hold them.)"""

    @field_validator("contact_phone", check_fields=False)
    @classmethod
    def _phone_or_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        # An email that failed its own check is absent from info.data and has its own message.
        if not value and "contact_email" in info.data and not info.data["contact_email"]:
            raise ValueError(N_("Enter a phone number or an email for trainees' questions"))
        return value


class CourseForm(_ContactRequired, CourseCreate):
    contact_phone: Phone = Checked(default=None, validate_default=True)


class CourseEditForm(_ContactRequired, CourseEdit):
    contact_phone: Phone = Checked(default=None, validate_default=True)


class CoursePublic(CourseBase):
    title_en: str | None = None
    university_code: str
    university_name: str
    city: str  # the name of the city where it is taught
    seats_left: int
    enroll_closes_on: date | None
    description: str | None = None
    mode: str = "on_site"
    venue: str | None = None
    city_code: str | None = None
    schedule: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    audience: str | None = None
    cluster: str | None = None

    @classmethod
    def of(cls, course: Course, university_code: str, university_name: str, city: str):
        """The API's view of a course: its record, its university and the city taught in."""
        return cls(
            **course.model_dump(),
            university_code=university_code,
            university_name=university_name,
            city=city,
            seats_left=course.seats_left,
        )
