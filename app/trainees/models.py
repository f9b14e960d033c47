from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import IdNumber, PersonName


class Trainee(SQLModel, table=True):
    """A person, known by a keyed hash of the ID number; the number itself is only stored encrypted.

    Contact details live on each enrollment, as given then: an anonymous form must never be able
    to change what an earlier enrollment (and the certificate look-up behind it) relies on."""

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True, index=True)
    id_encrypted: str = Field(max_length=200)
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=50)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class NameCorrection(SQLModel):
    """An administrator's correction of the name an ID number is registered under."""

    id_number: IdNumber
    name: PersonName
