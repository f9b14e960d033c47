"""What a catalog visitor asks for: the filters of the page's form and of the API's query."""

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.companies.models import CLUSTERS
from app.courses.models import MODES
from app.fields import PlainText
from app.i18n import N_

# Longer than any title a person would type; what is beyond it is a paste, not a search.
QUERY_MAX = 100
PER_PAGE = 20
PER_PAGE_MAX = 100
# Page 10,000 of 100 courses is a million courses: anything beyond is a typo, not a page.
PAGE_MAX = 10_000


def _searchable(text: str) -> str:
    if len(text) > QUERY_MAX:
        raise ValueError(N_("Search with at most 100 characters"))
    return text


Mode = Literal[MODES]  # type: ignore[valid-type]
Cluster = Literal[CLUSTERS]  # type: ignore[valid-type]


class CatalogFilter(BaseModel):
    """Every field optional; a blank one is no filter. Frozen and hashable: it is the cache's key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    q: Annotated[PlainText, AfterValidator(_searchable)] | None = None
    # ASCII only: \d would take other scripts' digits, and a NUL PostgreSQL refuses (a 500).
    city: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    university: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, to_upper=True, max_length=30, pattern=r"^[A-Za-z0-9_-]+$"
            ),
        ]
        | None
    ) = None
    mode: Mode | None = None
    cluster: Cluster | None = None
    starts_from: date | None = None
    starts_to: date | None = None
    seats: bool = False  # seats left only
    page: int = Field(default=1, ge=1, le=PAGE_MAX)
    per_page: int = Field(default=PER_PAGE, ge=1, le=PER_PAGE_MAX)

    @field_validator("starts_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_from = info.data.get("starts_from")
        if value and starts_from and value < starts_from:
            raise ValueError(N_("The end of the range is before its start"))
        return value

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def at_page(self, page: int) -> dict[str, str]:
        """This search at another page, as the query string of a link (blanks left out)."""
        given = self.model_dump(exclude_defaults=True, exclude={"page"})
        values = {k: ("1" if v is True else str(v)) for k, v in given.items()}
        return {**values, "page": str(page)} if page != 1 else values
