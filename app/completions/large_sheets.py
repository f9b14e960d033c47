"""A large worksheet: its rows counted before any is read, then read by calamine in a child
process (calamine_child) while this process checks that calamine can read it as ooxml would.

What calamine cannot tell, the streaming reader (ooxml) reads instead: a formula (calamine
gives the value Excel last computed; a formula is taken as its text here), an error cell
(calamine gives ""; "#N/A" here), an _x000D_ escape (calamine decodes it; kept as written
here), a DTD (refused here). So does a sheet the child could not read within its caps.
One difference is left: a cell of spaces only is "" from calamine, which every check treats
alike (a value is stripped, a row of blanks is no row). Small sheets stay with the streaming
reader too: it costs little there, and the child's start
would not pay for itself.
"""

import gc
import logging
import marshal
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator

from app.completions import calamine_child, ooxml, parsing
from app.completions.limits import CELL_TOO_LONG, MAX_CELL, MAX_COLUMNS, Record, UploadRefused

SMALL = 1024 * 1024  # bytes of sheet XML, about 3,500 rows of completions
# Rows at or above the header (a title, the header itself) that hold values but are no data:
# the header is looked for in the first ten non-empty rows.
ABOVE_THE_DATA = 10
_CHILD = [sys.executable, "-I", calamine_child.__file__]
# calamine reads these differently from ooxml (module docstring). A false alarm (":f" in a
# cell's text) only costs the slower reader.
_UNLIKE = (b"</f>", b"<f ", b"<f/", b":f", b't="e"', b"_x")
_ROW = re.compile(rb"<row\b")
_BLANK_ROW = re.compile(rb"<row\b[^>]*(?:/>|>(?:\s*<c\b[^>]*/>)*\s*</row>)")

log = logging.getLogger(__name__)


def read(
    archive: zipfile.ZipFile,
    data: bytes,
    sheet: str,
    name: str | None,
    strings: str | None,
    max_rows: int | None,
) -> Iterator[Record] | None:
    """The sheet's records as ooxml.SheetRows gives them, or None: the streaming reader's."""
    if archive.getinfo(sheet).file_size < SMALL or name is None:
        return None
    child = _start(data, name)  # reads while the sheet is checked here, on the other core
    try:
        xml = archive.read(sheet)
        if max_rows is not None:
            _refuse_if_more_rows(xml, max_rows)
        if not _calamine_reads_it(xml) or (strings and b"_x" in archive.read(strings)):
            return None
        answer = _answer(child)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    if answer is None:
        return None
    kind, found = answer
    if kind == "refused":
        if found == "cell":
            raise UploadRefused(CELL_TOO_LONG, {"max": str(MAX_CELL)})
        raise UploadRefused(ooxml.TOO_MUCH)
    if kind != "rows":
        log.warning("calamine could not read a workbook (%s): read as a stream", found)
        return None
    return ((line, cells, frozenset(numeric)) for line, cells, numeric in found)


def _start(data: bytes, name: str) -> subprocess.Popen:
    child = subprocess.Popen(
        _CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert child.stdin is not None
    request = (data, name, MAX_COLUMNS, MAX_CELL, ooxml.MAX_KEPT_CHARACTERS)
    try:
        child.stdin.write(marshal.dumps(request))
        child.stdin.close()
    except BrokenPipeError:
        pass  # the child died at once; _answer says so
    return child


def _answer(child: subprocess.Popen) -> tuple | None:
    assert child.stdout is not None
    out = child.stdout.read()
    if child.wait() != 0 or not out:
        # Over its memory or CPU cap (a sheet whose rectangle is huge), or killed.
        log.warning("calamine's child ended with %s: read as a stream", child.returncode)
        return None
    collecting = gc.isenabled()
    gc.disable()  # loading a million strings would run the collector hundreds of times
    try:
        return marshal.loads(out)
    finally:
        if collecting:
            gc.enable()


def _calamine_reads_it(xml: bytes) -> bool:
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if b"<!DOCTYPE" in xml[:start] or any(mark in xml for mark in _UNLIKE):
        return False  # a DTD comes before the root element, so before the sheet's data
    # calamine passes over elements it does not know, ooxml refuses those where no
    # spreadsheet puts them (deep nesting, rows in cells). A row or a cell as spreadsheets
    # write them holds a dozen tags at most (a cell, its value or rich text and runs).
    tags = xml.count(b"<", start, end)
    return tags <= 12 * xml.count(b"<c ", start, end) + 2 * xml.count(b"<row", start, end) + 16


def _refuse_if_more_rows(xml: bytes, max_rows: int) -> None:
    """Refused before a row is read: the rows that hold a value, less those that may be the
    header and a title above it. Rows left blank by formatting (no cell, or only cells
    without a value) do not count, as the readers do not count them."""
    if xml.count(b"<row") <= max_rows + ABOVE_THE_DATA:
        return  # the usual case: one pass, no row looked at
    holding = len(_ROW.findall(xml)) - len(_BLANK_ROW.findall(xml))
    if holding - ABOVE_THE_DATA > max_rows:
        raise UploadRefused(parsing.TOO_MANY_ROWS, {"max": str(max_rows)})
