from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Job(SQLModel, table=True):
    """A long piece of work the workers do (issuing, a print run, later imports and reports).

    Any app instance shows its progress from this row; the items (JobItem) are the record of
    the work itself, and done/failed are counted over them, so progress never goes backwards.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # e.g. "certificates.issue", "certificates.print"
    # The university whose staff may see it; None: the alliance's own (administrators only).
    university_id: int | None = Field(default=None, foreign_key="university.id", index=True)
    actor: str = Field(max_length=40)  # who started it, as the audit log names people
    state: str = Field(default="queued", max_length=10)  # queued | running | done | failed
    total: int = 0
    done: int = 0
    failed: int = 0
    params: str = Field(default="{}", sa_type=Text)  # JSON: what the job works on
    # A file the job made (a print run's PDF), relative to the data folder.
    result_path: str | None = Field(default=None, max_length=255)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobItem(SQLModel, table=True):
    """One unit of a job's work (one certificate to issue, one page to print), with a lease.

    Huey does not hand a task back when its worker dies, so this ledger is what is left to do:
    a worker leases items, does each idempotently and marks it done; items whose lease ran out
    are leased again by whoever comes next.
    """

    __tablename__ = "job_item"
    __table_args__ = (
        UniqueConstraint("job_id", "item_key"),
        Index("ix_job_item_open", "job_id", "state", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    item_key: str = Field(max_length=64)  # what the item is about, e.g. a completion id
    position: int = 0  # the order items are worked in (a print run's page order)
    state: str = Field(default="pending", max_length=10)  # pending | done | failed
    lease_until: datetime | None = None
    attempts: int = 0
    result: str | None = Field(default=None, max_length=100)  # e.g. the serial issued
    error: str | None = Field(default=None, max_length=500)
    finished_at: datetime | None = None
