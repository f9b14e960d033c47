from datetime import datetime

from pydantic import field_validator
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.fields import RowId
from app.i18n import N_

CLUSTERS = (
    "children_clothing",
    "home_textiles",
    "knitwear",
    "sweaters",
    "cotton_textiles",
    "rope_and_net",
    "printing_and_dyeing",
    "high_end_fibres",
    "industrial_textiles",
    "other",
)
# What pages show for each cluster (message ids, translated when rendered).
CLUSTER_NAMES = {
    "children_clothing": N_("Children's clothing"),
    "home_textiles": N_("Home textiles"),
    "knitwear": N_("Knitwear"),
    "sweaters": N_("Sweaters"),
    "cotton_textiles": N_("Cotton textiles"),
    "rope_and_net": N_("Rope and net"),
    "printing_and_dyeing": N_("Printing and dyeing"),
    "high_end_fibres": N_("High-end fibres"),
    "industrial_textiles": N_("Industrial textiles"),
    "other": N_("Other"),
}
NOT_A_CLUSTER = N_("Choose one of the industry clusters")


class CompanyBase(SQLModel):
    # None: unconfirmed, a name a trainee typed, until a university or an administrator
    # matches it to its code (DESIGN.md: only confirmed companies count toward the goal).
    uscc: str | None = Field(default=None, max_length=18, unique=True, index=True)
    name: str = Field(max_length=100)
    city_code: str | None = Field(default=None, foreign_key="city.code", max_length=4)
    cluster: str | None = Field(default=None, max_length=30)


class Company(CompanyBase, table=True):
    """A trainee's employer, identified by its Unified Social Credit Code."""

    # The database refuses any other cluster too: counts by cluster must add up to the whole.
    __table_args__ = (
        CheckConstraint(
            "cluster IN (" + ", ".join(f"'{c}'" for c in CLUSTERS) + ")", name="cluster"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # An unconfirmed company's name as service.name_key folds it (NULL once confirmed): the
    # same employer typed twice, or at once by two trainees, is one row.
    name_key: str | None = Field(default=None, max_length=100, unique=True)
    # A university or an administrator stood behind it (matched, or chose it in a match):
    # with a completion recorded, what lets the public form list it (service.search).
    vouched: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def confirmed(self) -> bool:
        return self.uscc is not None


class CompanyUpdate(SQLModel):
    """An administrator's change to a company: its industry cluster (null clears it)."""

    cluster: str | None = None

    @field_validator("cluster")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in CLUSTERS:
            raise ValueError(NOT_A_CLUSTER)
        return value


class CompanyMatch(SQLModel):
    """An unconfirmed company matched to the real one: a confirmed company chosen (into, its
    id), or the real one's unified social credit code (uscc)."""

    into: RowId | None = None
    uscc: str | None = Field(default=None, max_length=30)


class CompanyPublic(CompanyBase):
    pass
