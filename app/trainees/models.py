from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import utcnow


class Trainee(SQLModel, table=True):
    """A person, known by a keyed hash of the ID number; the number itself is only stored encrypted."""

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True, index=True)
    id_encrypted: str = Field(max_length=200)
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=50)
    mobile_encrypted: str = Field(max_length=200)
    mobile_masked: str = Field(max_length=11)
    email_encrypted: str | None = Field(default=None, max_length=400)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
