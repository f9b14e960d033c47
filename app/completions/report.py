"""The rejected-rows report: the rows as the user sent them plus a line and a reason column,
as a workbook of text cells, to fix and upload again."""

import io
import re
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlmodel import Session

from app.completions import originals, parsing, roster, service
from app.completions.models import CompletionBatch
from app.i18n import N_
from app.security import keys_of

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A file whose every row is rejected is the wrong file; its first rows say why. Tens of
# thousands of wide rows would take a minute to write, at every download.
REPORT_ROWS = 5_000
# Characters XML 1.0 cannot hold: openpyxl refuses them with an error whose message is the
# whole cell, an ID number perhaps, and the download fails. They become U+FFFD, not nothing,
# so that "370102\x07..." stays visibly wrong instead of turning into a valid-looking ID.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Translate = Callable[..., str]


def rejected_rows_xlsx(
    session: Session, batch: CompletionBatch, *, data_dir: Path, reason: Translate
) -> bytes:
    return text_workbook(rejected_rows(session, batch, data_dir=data_dir, reason=reason))


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


def text_workbook(rows: list[list[str]]) -> bytes:
    """Every cell is text: Excel keeps 18-digit ID numbers intact (a CSV would turn them into
    3.70102E+17), and a cell starting with "=" stays text instead of running as a formula."""
    workbook = Workbook(write_only=True)  # streamed: a few times faster than cell by cell
    sheet = workbook.create_sheet()
    for row in rows:
        cells: list[WriteOnlyCell | None] = []
        for value in row:
            if value == "":
                cells.append(None)  # left empty, as Excel leaves it
                continue
            # Cut at Excel's cell size: Excel calls a workbook with a longer cell damaged.
            cell = WriteOnlyCell(sheet, _NOT_IN_XML.sub("\ufffd", str(value))[: parsing.MAX_CELL])
            cell.data_type, cell.number_format = "s", "@"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
