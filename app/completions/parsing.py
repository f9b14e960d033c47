"""Completion-record uploads: from the uploaded bytes to rows, before any database work.

Files come from universities' own systems or from Excel, often Chinese Excel (GBK CSV with
CRLF, "CSV UTF-8" with a BOM, XLSX). Whole-file problems raise UploadRefused; one row's
fields are checked afterwards, all in checks.check_row, so the preview can show them beside it.
"""

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NoReturn

from app.completions import csvfile
from app.completions.limits import (  # noqa: F401  (the readers' limits, as callers know them)
    CELL_TOO_LONG,
    EXCEL_COLUMNS,
    EXCEL_ROWS,
    MAX_CELL,
    MAX_COLUMNS,
    MAX_ROWS,
    PAST_THE_CAP,
    TOO_MANY_COLUMNS,
    Record,
    UploadRefused,
)
from app.i18n import N_

REQUIRED = ("id_number", "course_code", "completed_on")
TOO_MANY_ROWS = N_("The file has more than %(max)s rows: split it into smaller files")


@dataclass
class Row:
    line: int
    values: dict[str, str]
    original: list[str]
    # An XLSX number cell, not text: Excel may have rounded the digits (checks.check_row says so).
    id_is_number: bool = False


@dataclass
class ParsedFile:
    format: str
    encoding: str | None
    header: list[str]
    rows: list[Row]


def parse_completion_file(
    filename: str, data: bytes, *, encoding: str | None = None, spec: "ColumnSpec | None" = None
) -> ParsedFile:
    """A completions file, or with spec another kind's columns (a roster's)."""
    kind = csvfile.detect_format(filename, data)
    if kind == "xlsx":
        # Imported here: CSV-only callers need not pay for importing the workbook reader.
        from app.completions import xlsx

        header, rows = _collect(xlsx.read_records(data, max_rows=MAX_ROWS), spec)
        return ParsedFile("xlsx", None, header, rows)
    text, used = csvfile.decode(data, encoding)
    try:
        header, rows = _collect(csvfile.records(text), spec)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # the csv module's own cap, 131,072
            raise UploadRefused(CELL_TOO_LONG, {"max": str(MAX_CELL)}) from exc
        raise UploadRefused(
            N_("The CSV file is malformed: %(problem)s"), {"problem": str(exc)}
        ) from exc
    return ParsedFile("csv", used, header, rows)


# --- header and rows -----------------------------------------------------------------------

# How files head the ID column (after the noise below is taken off); rosters use it too.
ID_NUMBER_HEADERS = (
    "身份证号",
    "身份证号码",
    "身份证",
    "公民身份号码",
    "证件号码",
    "证件号",
    "idnumber",
    "idcard",
    "idcardnumber",
)
_ALIASES = {
    "id_number": ID_NUMBER_HEADERS,
    "course_code": ("课程代码", "课程编号", "coursecode"),
    "completed_on": ("结业日期", "结业时间", "完成日期", "completedon", "completiondate"),
    "name": ("姓名", "name"),
    "score": ("成绩", "分数", "score"),
}
_FIELD_OF = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_LABELS = {
    "id_number": "身份证号 / id_number",
    "course_code": "课程代码 / course_code",
    "completed_on": "结业日期 / completed_on",
}


@dataclass(frozen=True)
class ColumnSpec:
    """A kind of file's columns: header alias -> field, the fields it needs, and how a
    missing one is named."""

    field_of: dict[str, str]
    required: tuple[str, ...]
    labels: dict[str, str]


COMPLETIONS = ColumnSpec(_FIELD_OF, REQUIRED, _LABELS)
# Templates often mark columns: "身份证号*", "结业日期（yyyy-mm-dd）", "ID Number (required)".
# Two "CSV UTF-8" files pasted together leave a byte-order mark inside a header cell; other
# invisible format characters (zero-width spaces, bidi marks) come with copied text.
_HEADER_NOISE = re.compile(
    r"[\s_\-*\ufeff\u200b-\u200f\u2060\u202a-\u202e\u2066-\u2069]"
    r"|[(（][^)）]*[)）]"
)
_HEADER_SEARCH = 10  # non-empty rows looked at for the header, to step over a title row


def _header_field(cell: str, field_of: dict[str, str] = _FIELD_OF) -> str | None:
    return field_of.get(_HEADER_NOISE.sub("", unicodedata.normalize("NFKC", cell)).lower())


def _collect(
    records: Iterable[Record], spec: ColumnSpec | None = None
) -> tuple[list[str], list[Row]]:
    spec = spec or COMPLETIONS
    records = iter(records)
    header = _find_header(records, spec.field_of)
    columns = _map_header(header, spec)
    width = len(header)
    fields = list(columns.items())
    id_column = columns["id_number"]
    rows: list[Row] = []
    for line, cells, numeric in records:
        if line > EXCEL_ROWS:
            _past_the_cap(line)
        cells = cells[:width]  # cells right of the header are nobody's
        # Whitespace joined is whitespace: one strip for the row instead of one a cell.
        text = "".join(cells)
        if not text.strip():
            continue  # Excel leaves blank rows behind; they are nobody's data
        if len(rows) == MAX_ROWS:
            raise UploadRefused(TOO_MANY_ROWS, {"max": str(MAX_ROWS)})
        count = len(cells)
        values = {name: cells[i].strip() if i < count else "" for name, i in fields}
        if '="' in text:
            values = {name: _unwrapped(value) for name, value in values.items()}
        rows.append(Row(line, values, cells, id_is_number=id_column in numeric))
    if not rows:
        raise UploadRefused(N_("The file has no data rows below its header"))
    return header, rows


def _past_the_cap(line: int) -> NoReturn:
    # By line number: ten million empty CSV lines stop at Excel's last row, and an XLSX row
    # numbered 20,000,000 is refused as it comes, its gap never made.
    raise UploadRefused(PAST_THE_CAP, {"line": str(line), "max": str(EXCEL_ROWS)})


def _find_header(records: Iterator[Record], field_of: dict[str, str]) -> list[str]:
    first = None
    seen = 0
    for line, cells, _numeric in records:
        if line > EXCEL_ROWS:
            _past_the_cap(line)
        if not "".join(cells).strip():
            continue
        first = first or cells
        if any(_header_field(cell, field_of) for cell in cells):
            return _trim(cells)
        seen += 1
        if seen == _HEADER_SEARCH:
            break
    if first is None:
        raise UploadRefused(N_("The file is empty"))
    return _trim(first)  # no known column: _map_header names what is missing


def _map_header(header: list[str], spec: ColumnSpec) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _header_field(cell, spec.field_of)
        if name in columns:
            both = f"{header[columns[name]].strip()}, {cell.strip()}"
            raise UploadRefused(
                N_("Two columns hold the same thing (%(columns)s): keep only one"),
                {"columns": both},
            )
        if name:
            columns[name] = index
    missing = [spec.labels[name] for name in spec.required if name not in columns]
    if missing and len(header) >= MAX_COLUMNS:  # the column may be there, beyond what is read
        raise UploadRefused(
            N_(
                "Required columns are missing from the first %(max)s columns, the only ones "
                "read: %(columns)s. Move them to the left"
            ),
            {"columns": "; ".join(missing), "max": str(MAX_COLUMNS)},
        )
    if missing:
        raise UploadRefused(
            N_("Required columns are missing: %(columns)s"), {"columns": "; ".join(missing)}
        )
    return columns


def _unwrapped(value: str) -> str:
    # Systems that export for Excel write ="370..." so that Excel keeps the digits.
    if value.startswith('="') and value.endswith('"') and len(value) > 2:
        value = value[2:-1].strip()
    return value


def _trim(cells: list[str]) -> list[str]:
    # The header ends at its last named column, whatever stray formatting left to its right;
    # rows are then cut to its width.
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return list(cells[:end])
