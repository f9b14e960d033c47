"""Rosters: trainees who enrolled offline (signed up by their employer or on paper), uploaded by
their university with the same preview as completions. A row enrolls the trainee (and makes the
trainee and the company when new); a row with a completion date records the completion too.

(Being built: see issue 8. service.py calls parse, classify, write and undo.)
"""

from datetime import date, datetime

from sqlmodel import Session

from app.completions import parsing
from app.completions.models import CompletionBatch
from app.completions.service import Plan
from app.universities.models import University


def parse(filename: str, data: bytes, *, encoding: str | None = None) -> parsing.ParsedFile:
    raise parsing.UploadRefused("Rosters cannot be uploaded yet")


def classify(
    session: Session, university: University, rows: list[parsing.Row], today: date
) -> Plan:
    raise NotImplementedError


def write(session: Session, plan: Plan, batch_id: int, *, now: datetime) -> None:
    raise NotImplementedError


def undo(session: Session, plan: Plan, batch: CompletionBatch, *, now: datetime) -> dict[str, int]:
    raise NotImplementedError
