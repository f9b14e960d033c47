"""The rejected-rows report: the rows as the user sent them plus a line and a reason column,
as a workbook of text cells, to fix and upload again."""

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from app.completions import originals, parsing, roster, service
from app.completions.models import CompletionBatch
from app.exports import files, sheets
from app.i18n import N_
from app.security import keys_of

XLSX_TYPE = files.XLSX_TYPE
# A file whose every row is rejected is the wrong file; its first rows say why. Tens of
# thousands of wide rows would take a minute to write, at every download.
REPORT_ROWS = 5_000

Translate = Callable[..., str]


def rejected_rows_xlsx(
    session: Session, batch: CompletionBatch, *, data_dir: Path, reason: Translate
) -> bytes:
    # Text cells (app/exports/cells.py): the rows as sent, an "=" cell never run as a formula.
    return sheets.text_workbook(rejected_rows(session, batch, data_dir=data_dir, reason=reason))


def rejected_rows(
    session: Session, batch: CompletionBatch, *, data_dir: Path, reason: Translate
) -> list[list[str]]:
    """The rejected rows as the user sent them, plus a reason column, to fix and upload again."""
    try:
        data = originals.read(batch, data_dir, keys=keys_of(session))
        # A roster's columns are its own: read as completions, its header might not be found.
        spec = roster.COLUMNS if batch.kind == "roster" else None
        parsed = parsing.parse_completion_file(
            batch.filename, data, encoding=batch.encoding, spec=spec
        )
        header, sent = parsed.header, {row.line: row.original for row in parsed.rows}
    except (parsing.UploadRefused, FileNotFoundError):
        # Refused now though accepted then (the limits were tightened since), or the original
        # is gone (deleted after its retention period): lines and reasons are still worth having.
        header, sent = [], {}
    rows = [[*header, reason("Line"), reason("Reason")]]
    rejected = [o for o in service.outcomes(batch) if o.status == "error"]
    for o in rejected[:REPORT_ROWS]:
        cells = sent.get(o.line, [])
        padding = [""] * (len(header) - len(cells))  # so that the reason column lines up
        rows.append([*cells, *padding, str(o.line), reason(o.message)])
    if len(rejected) > REPORT_ROWS:
        rows.append(
            [""] * (len(header) + 1)
            + [
                reason(
                    N_(
                        "%(more)s more rejected rows are not listed: fix these, upload again, and the "
                        "next report lists the rest"
                    ),
                    more=len(rejected) - REPORT_ROWS,
                )
            ]
        )
    return rows
