"""A CSV upload: telling it from a workbook, its text encoding, and its records.

Chinese Excel saves "CSV" as GBK with CRLF, "CSV UTF-8" with a BOM; systems export UTF-8.
"""

import codecs
import csv
import re
from collections.abc import Iterator

from app.completions.limits import (
    CELL_TOO_LONG,
    EXCEL_COLUMNS,
    MAX_CELL,
    MAX_COLUMNS,
    TOO_MANY_COLUMNS,
    Record,
    UploadRefused,
)
from app.i18n import N_

# --- format and encoding -------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_format(filename: str, data: bytes) -> str:
    if not data.strip():
        raise UploadRefused(N_("The file is empty"))
    if data.startswith(_OLE2):
        # Excel saves a password-protected .xlsx inside the same container as an old .xls.
        if filename.lower().endswith(".xlsx"):
            raise UploadRefused(
                N_("The workbook is password-protected: remove the password and upload it again")
            )
        raise UploadRefused(N_("Old .xls files are not supported: save as .xlsx or CSV"))
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    return "csv"


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        return _decode_as(data, encoding)
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, name)
    # Strict UTF-8 first: GBK bytes are rarely valid UTF-8, but UTF-8 often decodes as GB18030.
    for name in ("utf-8", "gb18030"):
        try:
            return _text(data.decode(name)), name
        except UnicodeDecodeError:
            continue
    raise UploadRefused(
        N_("The file's text encoding could not be recognised: save it as CSV UTF-8 or XLSX")
    )


# Text encodings a user may choose; codecs such as rot13 or zlib are not text encodings.
CHOSEN_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16"})


def _decode_as(data: bytes, encoding: str) -> tuple[str, str]:
    try:
        name = codecs.lookup(encoding).name
        if name not in CHOSEN_ENCODINGS:
            raise LookupError(encoding)
    except (LookupError, ValueError) as exc:
        raise UploadRefused(
            N_("Unknown text encoding: %(encoding)s"), {"encoding": encoding}
        ) from exc
    try:
        text = data.decode(name)
    except UnicodeError as exc:
        raise UploadRefused(
            N_("The file cannot be read as %(encoding)s: choose another encoding"),
            {"encoding": encoding},
        ) from exc
    return _text(text.removeprefix("\ufeff")), name


def _text(text: str) -> str:
    if "\x00" in text:  # decodes "successfully" but is binary, or UTF-16 without a BOM
        raise UploadRefused(
            N_("The file is neither a spreadsheet nor a text file: upload XLSX or CSV")
        )
    return text


# --- CSV -----------------------------------------------------------------------------------


def records(text: str) -> Iterator[Record]:
    delimiter = _sniff_delimiter(text)
    lines = _Lines(text, delimiter)
    reader = csv.reader(lines, delimiter=delimiter)
    # Count records, not physical lines: a quoted cell may span lines but is one Excel row.
    no_numbers: frozenset[int] = frozenset()
    for line, cells in enumerate(reader, start=1):
        lines.delimiters = 0
        cells = cells[:MAX_COLUMNS]
        if cells and max(map(len, cells)) > MAX_CELL:
            raise UploadRefused(CELL_TOO_LONG, {"max": str(MAX_CELL)})
        yield line, cells, no_numbers


# A physical line, ending as universal newlines end one (\r\n, \r or \n), or the last one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class _Lines:
    """Physical lines for the csv module, counting the delimiters of the record it is reading.

    csv makes a list of every field of a record before handing it over: nine million commas,
    on one line or across quoted line breaks, would be a list of nine million strings. csv
    reads no line ahead, so the count since the last record handed over is this record's.
    Lines are cut from the text as needed: io.StringIO would copy it at 4 bytes a character.
    """

    def __init__(self, text: str, delimiter: str):
        self._lines = (match.group() for match in _LINE.finditer(text))
        self._delimiter = delimiter
        self.delimiters = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.delimiters += line.count(self._delimiter)
        if self.delimiters >= EXCEL_COLUMNS:
            raise UploadRefused(TOO_MANY_COLUMNS, {"max": str(EXCEL_COLUMNS)})
        return line


def _sniff_delimiter(text: str) -> str:
    # The header line decides; the full-width comma "，" is text, never a delimiter.
    first = next((line for line in text[:65536].splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","
