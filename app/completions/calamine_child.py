"""A large worksheet read by calamine (Rust), in a child process with a memory and CPU cap.

calamine reads about 90,000 rows a second where the streaming reader (ooxml) reads 10,000,
but it builds the sheet's whole rectangle first: a cell in column XFD of a 3,000-row sheet
costs it 1.5 GB, a cell in row 2,000,000 300 MB, and nothing in a sheet says so cheaply
before. Run here, such a sheet hits the cap and ends the child, and the upload is read by the
streaming reader instead, whose work follows what the file holds. The server's own memory
never holds calamine's rectangle.

Run as `python -I calamine_child.py`: marshal in on stdin, marshal out on stdout. Imports
nothing of the app, so the child starts in a few hundredths of a second; xlsx.py imports
text_of from here, so both readers write a cell's value alike.
"""

import gc
import io
import marshal
import resource
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

MEMORY = 1024 * 1024 * 1024  # address space: 100,000 rows of 25 columns take about 500 MB
CPU_SECONDS = 60  # calamine reads 160 MiB of XML (xlsx.MAX_UNZIPPED) in a few seconds


def text_of(value: object) -> str:
    """A cell's value as openpyxl would give it, as text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # course code 2026001 typed as a number is stored as 2026001.0
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)  # time: 08:30:00; timedelta: 1 day, 12:00:00


def read(request: tuple) -> tuple:
    """("rows", [(line, cells, numeric columns)]) as ooxml.SheetRows gives them, or
    ("refused", which limit), or ("unreadable", calamine's kind of error)."""
    data, sheet, max_columns, max_cell, max_kept = request
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_name(sheet)
        end = rows.end
        found = [] if end is None else _records(rows, end, max_columns, max_cell, max_kept)
    except python_calamine.CalamineError as exc:
        return ("unreadable", type(exc).__name__)
    if isinstance(found, str):
        return ("refused", found)
    return ("rows", found)


def _records(rows, end: tuple[int, int], max_columns: int, max_cell: int, max_kept: int):
    # iter_rows (0.9) starts at row 1 but at the first column holding a value: where a row
    # or a cell is is counted back from the rectangle's end, whichever way a version starts.
    found = []
    kept = 0
    offset = -1
    for offset, values in enumerate(rows.iter_rows()):
        first_column = end[1] + 1 - len(values)
        lead = [""] * first_column
        values = values[: max(max_columns - first_column, 0)]
        # One dispatch a cell by its exact type: bool before int, datetime before date.
        cells = [_AS_TEXT.get(type(value), str)(value) for value in values]
        if not cells or max(map(len, cells)) > max_cell:
            if cells:
                return "cell"
            continue
        kept += sum(map(len, cells))
        if kept > max_kept:
            return "too_much"
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            numeric = [first_column + i for i, v in enumerate(values) if type(v) in _NUMBERS]
            found.append((offset, lead + cells, numeric))
    first_line = end[0] + 1 - (offset + 1)
    return [(first_line + at + 1, cells, numeric) for at, cells, numeric in found]


def _same(text: str) -> str:
    return text


_AS_TEXT: dict[type, Callable[[Any], str]] = {
    str: _same,
    float: text_of,
    int: str,
    bool: lambda value: "TRUE" if value else "FALSE",
    datetime: text_of,
    date: date.isoformat,
    time: str,
    timedelta: str,
}
_NUMBERS = (int, float)


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    gc.disable()  # a short life making a million strings: collections would only cost time
    request = marshal.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(marshal.dumps(read(request)))


if __name__ == "__main__":
    main()
