from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import Code, PlainText


class UniversityBase(SQLModel):
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=100)
    city_code: str = Field(foreign_key="city.code", max_length=4)


class University(UniversityBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class UniversityCreate(SQLModel):
    code: Code = Field(max_length=20)
    name: PlainText = Field(min_length=2, max_length=100)
    city_code: PlainText = Field(min_length=4, max_length=4)


class UniversityPublic(UniversityBase):
    id: int
