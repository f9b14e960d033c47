from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import (
    Code,
    OptionalEnglishName,
    PlainText,
    Signatory,
)


class UniversityBase(SQLModel):
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=100)
    city_code: str = Field(foreign_key="city.code", max_length=4)


class University(UniversityBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # What its certificates print besides the name: an English name for the English line, the
    # seal (a transparent PNG in the data folder) and who signs.
    name_en: str | None = Field(default=None, max_length=200)
    seal_path: str | None = Field(default=None, max_length=255)
    signatory_name: str | None = Field(default=None, max_length=50)
    signatory_title: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    # Set by the security administrator: this university's staff must use a second factor.
    staff_totp_required: bool = False


class UniversityCreate(SQLModel):
    code: Code = Field(max_length=20)
    name: PlainText = Field(min_length=2, max_length=100)
    city_code: PlainText = Field(min_length=4, max_length=4)
    name_en: OptionalEnglishName = None


class CertificateSettings(Signatory):
    """What a university's certificates print besides its name; the seal is uploaded beside."""

    name_en: OptionalEnglishName = None


class UniversityPublic(UniversityBase):
    id: int
    name_en: str | None = None
