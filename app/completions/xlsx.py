"""Reading an uploaded XLSX: the archive is checked from its directory before anything is
unpacked; then the first worksheet is read by calamine when it is large and calamine reads it
as the streaming reader would (app.completions.large_sheets), else it streams through expat
(app.completions.ooxml).

Only what is in the sheet is read: no row is made for a gap and no cell for the columns left
of a far one, so the sheet's declared dimension is neither trusted nor needed.
"""

import io
import logging
import posixpath
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from xml.parsers import expat

from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
    from_ISO8601,
)

from app.completions import calamine_child, large_sheets, ooxml, parsing
from app.completions.limits import Record, UploadRefused
from app.completions.ooxml import UNREADABLE
from app.i18n import N_

MAX_ENTRIES = 500  # a workbook of completions has about ten parts; pictures and sheets add some
# Measured with openpyxl, which inlines its strings (Excel's shared strings make files
# smaller): a 100,000-row sheet (the row cap) of the five completion columns unpacks to
# 26.8 MiB (bench/hostile_uploads.py); one of 12 columns, as a student system exports it,
# 70.7 MiB; 50,000 rows of 25 columns, 73.1 MiB, so 100,000 of 25 about 146 MiB.
# The limit bounds time (calamine reads about 50 MiB of XML a second, the streaming reader 15).
MAX_UNZIPPED = 160 * 1024 * 1024
MAX_RATIO = 200  # real workbooks compress 5-20 times; zip bombs a thousand times
_DIRECTORY = MAX_ENTRIES * 256  # bytes of central directory; a real record takes about 100

log = logging.getLogger(__name__)

TOO_MANY_PARTS = N_(
    "The workbook has more than %(max)s parts (sheets, pictures and the like): keep only the "
    "sheet of completions and upload it again"
)
TOO_LARGE = N_("The workbook is too large once unpacked")
_END = struct.Struct("<4s4H2LH")  # the zip's end of central directory record


def check_archive(data: bytes) -> None:
    # Everything here comes from the central directory: nothing is decompressed. Sizes are
    # the declared ones; zipfile stops at the declared size while decompressing, so a member
    # that lies about its size cannot grow past these checks.
    _check_end_record(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UploadRefused(UNREADABLE) from exc
    if len(members) > MAX_ENTRIES:
        raise UploadRefused(TOO_MANY_PARTS, {"max": str(MAX_ENTRIES)})
    if sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise UploadRefused(TOO_LARGE)
    if any(m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members):
        raise UploadRefused(TOO_LARGE)
    if any(m.flag_bits & 0x1 for m in members):
        raise UploadRefused(
            N_("The workbook is password-protected: remove the password and upload it again")
        )
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise UploadRefused(
            N_("The file is a zip archive, not an Excel workbook: upload XLSX or CSV")
        )


def _check_end_record(data: bytes) -> None:
    """zipfile makes an object of every directory record before anyone can count them (100,000
    empty entries fit in an upload and take seconds), so the end record is read first, found
    where zipfile looks for it."""
    start = len(data) - _END.size
    if not (data[start : start + 4] == b"PK\x05\x06" and data[-2:] == b"\0\0"):
        start = data.rfind(b"PK\x05\x06", max(len(data) - 65_536 - _END.size, 0))
    if start < 0 or start + _END.size > len(data):
        raise UploadRefused(UNREADABLE)
    entries, directory_size = _END.unpack_from(data, start)[4:6]
    if entries > MAX_ENTRIES or directory_size > _DIRECTORY:
        raise UploadRefused(TOO_MANY_PARTS, {"max": str(MAX_ENTRIES)})
    if start >= 20 and data[start - 20 : start - 16] == b"PK\x06\x07":
        raise UploadRefused(UNREADABLE)  # zip64, whose counts zipfile would believe instead


def read_records(data: bytes, *, max_rows: int | None = None) -> Iterator[Record]:
    """max_rows: a large sheet holding more rows than this is refused before any is read."""
    check_archive(data)
    return _records(data, max_rows)


def stream_records(data: bytes) -> Iterator[Record]:
    """The streaming reader alone, whatever the sheet's size: what read_records must agree with."""
    check_archive(data)
    return _records(data, None, stream=True)


# What a damaged or hand-made archive raises on the way; all mean the same to the user.
_DAMAGED = (
    expat.ExpatError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    OverflowError,
    struct.error,
    AttributeError,
    TypeError,  # elements where no spreadsheet puts them
    NotImplementedError,
)  # a compression method zipfile lacks, such as Deflate64


def _records(data: bytes, max_rows: int | None, stream: bool = False) -> Iterator[Record]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book, rels, sheet = _parts(archive)
            quick = None
            if not stream:
                name = book.names.get(sheet_rid(book, rels, sheet))
                quick = large_sheets.read(archive, data, sheet, name, rels.strings, max_rows)
            if quick is not None:
                yield from quick
                return
            cell_value = _cell_values(archive, book, rels)
            rows = ooxml.SheetRows(
                cell_value, max_columns=parsing.MAX_COLUMNS, last_line=parsing.EXCEL_ROWS
            )
            with archive.open(sheet) as member:
                for _ in ooxml.feed(member, rows):
                    for line, cells, numeric in rows.done:
                        yield line, _listed(cells), frozenset(numeric)
                    rows.done.clear()
    except UploadRefused:
        raise
    except _DAMAGED as exc:
        # The kind of error only, never its text (it may quote a cell): a defect of this
        # reader must be findable, not just look like a damaged file to the clerk.
        log.warning("workbook refused as unreadable: %s", type(exc).__name__)
        raise UploadRefused(UNREADABLE) from exc


def _listed(cells: dict[int, str]) -> list[str]:
    listed = [""] * max(cells)
    for column, text in cells.items():
        listed[column - 1] = text
    return listed


def _parts(archive: zipfile.ZipFile):
    """The workbook, its relationships and its first worksheet's part."""
    with archive.open("xl/workbook.xml") as member:
        book = ooxml.read_whole(member, _Book())
    with archive.open("xl/_rels/workbook.xml.rels") as member:
        rels = ooxml.read_whole(member, _Relationships(set(book.sheets)))
    parts = set(archive.namelist())
    # As openpyxl counts worksheets: chart sheets and sheets without a part are passed over.
    sheet = next(
        (
            path
            for kind, path in map(rels.targets.get, book.sheets)
            if kind.endswith("/worksheet") and path in parts
        ),
        None,
    )
    if sheet is None:
        raise UploadRefused(N_("The workbook has no worksheet"))
    named = [part for part in (sheet, rels.strings, rels.styles) if part]
    if len(set(named)) < len(named):
        raise UploadRefused(UNREADABLE)  # one part named as two: it would be read twice over
    return book, rels, sheet


def sheet_rid(book: "_Book", rels: "_Relationships", sheet: str) -> str | None:
    return next((rid for rid in book.sheets if rid and rels.targets[rid][1] == sheet), None)


def _cell_values(archive: zipfile.ZipFile, book: "_Book", rels: "_Relationships"):
    """How the streaming reader reads a cell: with the shared strings and date styles."""
    strings, styles = ooxml.SharedStrings(), ooxml.NumberStyles()
    if rels.strings:
        with archive.open(rels.strings) as member:
            ooxml.read_whole(member, strings)
    if rels.styles:
        with archive.open(rels.styles) as member:
            ooxml.read_whole(member, styles)
    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    return _CellValues(strings, styles, epoch)


class _Book:
    """workbook.xml: the sheets' relationship ids in order, and the date system."""

    def __init__(self) -> None:
        self.depth = 0
        self.sheets: list[str | None] = []
        self._names: list[tuple[str | None, str | None]] = []
        self.date1904 = False

    @property
    def names(self) -> dict[str, str]:
        """A sheet's name by relationship id, as calamine asks for it; a name given twice
        could mean another sheet to calamine, so it names neither."""
        counts = Counter(name for _, name in self._names)
        return {rid: name for rid, name in self._names if rid and name and counts[name] == 1}

    def start(self, name, attrs):
        self.depth += 1
        if self.depth > ooxml.MAX_DEPTH:
            raise UploadRefused(UNREADABLE)
        tag = ooxml.local(name)
        if tag == "workbookPr":
            self.date1904 = attrs.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            if len(self.sheets) == MAX_ENTRIES:  # every sheet is a part of its own
                raise UploadRefused(TOO_MANY_PARTS, {"max": str(MAX_ENTRIES)})
            rid = next((v for k, v in attrs.items() if k.endswith(" id")), None)
            self.sheets.append(rid)
            self._names.append((rid, attrs.get("name")))

    def end(self, name):
        self.depth -= 1

    def text(self, data):
        pass


class _Relationships:
    """workbook.xml.rels: where the wanted sheets, the shared strings and the styles are."""

    def __init__(self, wanted: set):
        self.depth = 0
        self.wanted = wanted
        self.targets: dict[str, tuple[str, str]] = dict.fromkeys(wanted, ("", ""))
        self.strings = self.styles = None

    def start(self, name, attrs):
        self.depth += 1
        if self.depth > ooxml.MAX_DEPTH:
            raise UploadRefused(UNREADABLE)
        if ooxml.local(name) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        kind, target = attrs.get("Type", ""), attrs.get("Target", "")
        path = target[1:] if target.startswith("/") else posixpath.normpath("xl/" + target)
        rid = attrs.get("Id")
        if rid is not None and rid in self.wanted:
            self.targets[rid] = (kind, path)
        if kind.endswith("/sharedStrings"):
            self.strings = self.strings or path
        elif kind.endswith("/styles"):
            self.styles = self.styles or path

    def end(self, name):
        self.depth -= 1

    def text(self, data):
        pass


class _CellValues:
    """A cell as text, and whether it was a number, as openpyxl gives its value with
    data_only=False: formulas as their text, numbers in a date style as dates."""

    def __init__(self, strings: ooxml.SharedStrings, styles: ooxml.NumberStyles, epoch):
        self.strings, self.epoch = strings, epoch
        self.dates, self.durations = styles.dates, styles.durations

    def __call__(self, kind, style, value, formula, inline) -> tuple[str | None, bool]:
        if formula is not None:
            return "=" + formula, False
        if kind == "inlineStr":
            return inline, False
        if value is None:
            return None, False
        if kind == "n":
            number = float(value) if "." in value or "e" in value or "E" in value else int(value)
            if style and int(style) in self.dates:
                try:
                    return _text(
                        from_excel(number, self.epoch, timedelta=int(style) in self.durations)
                    ), False
                except (OverflowError, ValueError):
                    return "#VALUE!", False  # what openpyxl gives a date out of range
            return _text(number), True
        if kind == "s":
            return self.strings[int(value)], False
        if kind == "b":
            return ("TRUE" if int(value) else "FALSE"), False
        if kind == "d":
            return _text(from_ISO8601(value)), False
        return value, False  # "str", or "e": an error such as #N/A


_text = calamine_child.text_of  # both readers write a value alike
