from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import utcnow

CLUSTERS = (
    "children_clothing", "home_textiles", "knitwear", "sweaters", "cotton_textiles",
    "rope_and_net", "printing_and_dyeing", "high_end_fibres", "industrial_textiles", "other",
)


class Company(SQLModel, table=True):
    """A trainee's employer, identified by its Unified Social Credit Code."""

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=100)
    city_code: str | None = Field(default=None, foreign_key="city.code", max_length=4)
    cluster: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(default_factory=utcnow)
