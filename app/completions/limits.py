"""What an upload may hold, and the one error for a file refused whole; shared by the readers."""

from app.i18n import N_

MAX_ROWS = 100_000  # a large university's year; rows that hold data; blank rows do not count (templates carry formatting
# far down, and Excel's CSV export of them writes ",,,,," lines), but no row may be numbered
# past the last row a sheet has: blank rows cost only reading, bounded by that and the size.
EXCEL_ROWS = 1_048_576
# Columns read from each row. A completions file needs five, exports from student systems
# carry a few dozen; a row is never made wider than this, however far right a cell is.
MAX_COLUMNS = 64
EXCEL_COLUMNS = 16_384  # A to XFD
MAX_CELL = 32_767  # characters in a cell, as in Excel

PAST_THE_CAP = N_(
    "Row %(line)s is past the last row a sheet can have (%(max)s): delete the empty rows "
    "below your data or split the file"
)
TOO_MANY_COLUMNS = N_(
    "A row has more than %(max)s columns, more than Excel allows: delete the columns to the "
    "right of your data"
)
CELL_TOO_LONG = N_(
    "A cell holds more than %(max)s characters, more than Excel allows: shorten it and upload "
    "the file again"
)

# A reader yields (line as Excel numbers it, cells as text, indexes of numeric cells).
Record = tuple[int, list[str], frozenset[int]]


class UploadRefused(ValueError):
    def __init__(self, message: str, params: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}
