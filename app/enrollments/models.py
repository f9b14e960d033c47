from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import (
    IdNumber,
    Mobile,
    OptionalCompanyName,
    OptionalEmail,
    OptionalUscc,
    PersonName,
    PlainText,
)
from app.i18n import N_

CONSENT_VERSION = "2026-11"


class Enrollment(SQLModel, table=True):
    """A trainee in a course; the employer is recorded as it was at enrollment."""

    __table_args__ = (UniqueConstraint("trainee_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enrollment_no: str = Field(max_length=20, unique=True, index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    trainee_id: int = Field(foreign_key="trainee.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    status: str = Field(default="enrolled", max_length=12)  # enrolled | withdrawn
    consent_version: str = Field(max_length=20)
    consent_at: datetime
    consent_channel: str = Field(max_length=10)  # web | api
    share_with_employer: bool = False
    # Contact details as given with this enrollment (encrypted), so a later form cannot change them.
    mobile_encrypted: str = Field(max_length=200)
    mobile_masked: str = Field(max_length=11)
    email_encrypted: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class EnrollmentCreate(SQLModel):
    """What a trainee submits, on the page or through the API. Every rule of a single field is
    here, so one answer names every field that is wrong; what needs the database (is the
    company known? is the name the ID number's?) is the service's."""

    course_code: PlainText = Field(min_length=1, max_length=30)
    name: PersonName
    id_number: IdNumber
    mobile: Mobile
    email: OptionalEmail = None
    # The employer: a listed company's USCC (GET /api/v1/companies/search finds it), or a USCC
    # and the name of a company new to us, or its name alone (an unconfirmed company that a
    # university or an administrator later matches to its code). Neither: company_name's error.
    company_uscc: OptionalUscc = Field(
        default=None,
        description="The employer's unified social credit code: one of a listed company "
        "(GET /companies/search) or a new one with company_name; leave out if not known",
    )
    company_name: OptionalCompanyName = Field(
        default=None,
        description="The employer's full name: needed with a code new to us, or alone when "
        "the code is not known",
    )
    consent: bool = False
    share_with_employer: bool = False

    @field_validator("consent")
    @classmethod
    def _consent(cls, v: bool) -> bool:
        if not v:
            raise ValueError(N_("You must agree to the use of your data to enroll"))
        return v
