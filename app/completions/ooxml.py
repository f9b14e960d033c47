"""The parts of an XLSX read with expat as they unzip: no tree is built, nothing is padded.

openpyxl's read-only reader makes every row of a gap and every cell left of the last one
(a lone cell in row 20,000,000 or in column XFD costs seconds and hundreds of MB), and loads
any shared-string table whole. Here work and memory follow what the part holds, and each
handler refuses what no workbook of completions holds (DTDs, deep nesting, huge cells).
"""

from array import array
from collections.abc import Iterator
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter

from app.completions.limits import (
    CELL_TOO_LONG,
    EXCEL_COLUMNS,
    MAX_CELL,
    PAST_THE_CAP,
    TOO_MANY_COLUMNS,
    UploadRefused,
)
from app.i18n import N_

UNREADABLE = N_(
    "The workbook could not be read: open it in Excel, save it again as .xlsx and upload it"
)
MAX_DEPTH = 32  # Excel's parts nest about a dozen elements deep; expat keeps a stack per level
MAX_SHARED_STRINGS = 500_000  # 100,000 rows of completions as Excel saves them hold 108,000
MAX_FORMATS = 10_000  # Excel allows about 250 number formats and 64,000 cell styles a workbook
MAX_STYLES = 100_000
# The work and memory a sheet may cost, whatever its bytes: expat calls back for every element
# (about a microsecond each), and one shared string or formula may be referenced by every cell.
# 100,000 rows (the row cap) of 12 inline-string columns hold 3.4 million elements (a cell, its
# <is> and <t>); 100,000 rows of 30 columns of numbers 6 million and, at 20 characters a
# cell, 60 million characters.
MAX_ELEMENTS = 6_000_000
MAX_KEPT_CHARACTERS = 64 * 1024 * 1024
TOO_MUCH = N_(
    "The sheet holds more than a file of completions needs: delete the unused rows and columns "
    "(or split the file) and upload it again"
)
_CHUNK = 64 * 1024
# Built-in number formats that Chinese (and Japanese, Korean) Excel and WPS write without a
# <numFmt> definition when a clerk picks a native date or time: 31 is yyyy"年"m"月"d"日",
# 57 is yyyy"年"m"月". openpyxl's table of built-in formats does not list them.
EAST_ASIAN_DATES = frozenset((*range(27, 37), *range(50, 59)))
COLUMN_INDEX = {get_column_letter(i): i for i in range(1, EXCEL_COLUMNS + 1)}


def local(name: str) -> str:
    return name[name.rfind(" ") + 1 :]  # "namespace local" from expat, or a bare name


def _no_dtd(*args) -> None:
    raise UploadRefused(UNREADABLE)  # entities could expand a few bytes into gigabytes


def feed(member, handler) -> Iterator[None]:
    """Parse an open zip member into handler's start/end/text, yielding after every chunk so
    that a caller can hand on what was read and stop early."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.text
    while chunk := member.read(_CHUNK):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)  # expat may have held back the end of the last chunk
    yield


def read_whole(member, handler):
    for _ in feed(member, handler):
        pass
    return handler


def _too_long() -> UploadRefused:
    return UploadRefused(CELL_TOO_LONG, {"max": str(MAX_CELL)})


class SharedStrings:
    """The table of shared strings, kept as one UTF-8 blob and its offsets: a million short
    strings as Python objects would take some 60 MB."""

    def __init__(self) -> None:
        self.depth = 0
        self._blob = bytearray()
        self._ends = array("Q", [0])
        self._parts: list[str] | None = None  # the text of the <si> being read
        self._in_text = False
        self._phonetic = 0  # inside <rPh>: a reading guide that is not part of the text
        self._length = 0

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends) - 1:
            raise IndexError(index)
        return self._blob[self._ends[index] : self._ends[index + 1]].decode()

    def start(self, name, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise UploadRefused(UNREADABLE)
        tag = local(name)
        if tag == "si":
            if self._parts is not None:  # an item inside an item
                raise UploadRefused(UNREADABLE)
            self._parts, self._length = [], 0
        elif tag == "rPh":
            self._phonetic += 1
        elif tag == "t" and self._parts is not None and not self._phonetic:
            self._in_text = True

    def end(self, name):
        self.depth -= 1
        tag = local(name)
        if tag == "t":
            self._in_text = False
        elif tag == "rPh":
            self._phonetic -= 1
        elif tag == "si" and self._parts is not None:
            if len(self._ends) > MAX_SHARED_STRINGS:
                raise UploadRefused(UNREADABLE)
            # As openpyxl reads them: "_x005F_" is Excel's escape for a literal underscore.
            self._blob += "".join(self._parts).replace("x005F_", "").encode()
            self._ends.append(len(self._blob))
            self._parts = None

    def text(self, data):
        if self._in_text:
            self._parts.append(data)
            self._length += len(data)
            if self._length > MAX_CELL:
                raise _too_long()


class NumberStyles:
    """Which cell styles show a date or a duration: a number in such a cell is a date."""

    def __init__(self) -> None:
        self.depth = 0
        self.dates: set[int] = set()
        self.durations: set[int] = set()
        self._custom: dict[int, tuple[bool, bool]] = {}
        self._section = ""
        self._styles = 0

    @staticmethod
    def _kind(code: str | None) -> tuple[bool, bool]:
        return is_date_format(code), is_timedelta_format(code)

    def start(self, name, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise UploadRefused(UNREADABLE)
        tag = local(name)
        if self.depth == 2:
            self._section = tag
        elif tag == "numFmt" and self._section == "numFmts":
            if len(self._custom) == MAX_FORMATS:
                raise UploadRefused(UNREADABLE)
            self._custom[int(attrs.get("numFmtId", 0))] = self._kind(attrs.get("formatCode"))
        elif tag == "xf" and self._section == "cellXfs" and self.depth == 3:
            if self._styles == MAX_STYLES:
                raise UploadRefused(UNREADABLE)
            number_format = int(attrs.get("numFmtId", 0))
            kind = self._custom.get(number_format)
            if kind is None and number_format in EAST_ASIAN_DATES:
                kind = (True, False)
            if kind is None:
                kind = self._kind(BUILTIN_FORMATS.get(number_format))
            if kind[0]:
                self.dates.add(self._styles)
            if kind[1]:
                self.durations.add(self._styles)
            self._styles += 1

    def end(self, name):
        self.depth -= 1

    def text(self, data):
        pass


class SheetRows:
    """A worksheet's rows as (row number, {column: cell}, numeric columns): only the rows that
    hold a value, and only their first max_columns columns. Row numbers come from the file, so
    a gap is just a jump: nothing is made for the rows in between. Rows past last_line (the
    last row a sheet has) are refused even when blank, and rows come in order, so there are
    at most last_line of them."""

    def __init__(self, cell_value, *, max_columns: int, last_line: int):
        self.cell_value = cell_value  # (type, style, value, formula, inline) -> (text, numeric)
        self.max_columns, self.last_line = max_columns, last_line
        self.done: list[tuple[int, dict[int, str], list[int]]] = []
        self.depth = 0
        self.line = 0
        self._row: dict[int, str] | None = None
        self._numeric: list[int] = []
        self._column = self._cells = self._length = 0
        self._kind = self._style = None  # the cell being read; None when it is not kept
        self._value = self._formula = self._inline = self._target = None
        self._shared_formula = None
        self._groups: dict[str, str] = {}  # shared formulas: group -> the first cell's text
        self._phonetic = False
        self._elements = self._kept = 0

    def start(self, name, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise UploadRefused(UNREADABLE)
        self._elements += 1
        if self._elements > MAX_ELEMENTS:
            raise UploadRefused(TOO_MUCH)
        tag = name[name.rfind(" ") + 1 :]  # local(name), inlined: called per element
        if tag == "c" and self._row is not None:
            if self._kind is not None:  # a cell inside a cell: no spreadsheet writes that
                raise UploadRefused(UNREADABLE)
            self._start_cell(attrs)
        elif tag == "row":
            if self._row is not None:  # a row inside a row
                raise UploadRefused(UNREADABLE)
            self._start_row(attrs)
        elif self._kind is None:
            return
        elif tag == "v":
            self._value = self._target = []
        elif tag == "f":
            self._formula = self._target = []
            self._shared_formula = attrs.get("si") if attrs.get("t") == "shared" else None
        elif tag == "is":
            self._inline = []
        elif tag == "t" and self._inline is not None and not self._phonetic:
            self._target = self._inline
        elif tag == "rPh":
            self._phonetic = True

    def _start_row(self, attrs):
        line = int(attrs["r"]) if "r" in attrs else self.line + 1
        if line <= self.line:
            raise UploadRefused(UNREADABLE)  # rows out of order: Excel never writes them
        if line > self.last_line:
            raise UploadRefused(PAST_THE_CAP, {"line": str(line), "max": str(self.last_line)})
        self.line = line
        self._row, self._numeric, self._column, self._cells = {}, [], 0, 0

    def _start_cell(self, attrs):
        self._cells += 1
        if self._cells > EXCEL_COLUMNS:
            raise UploadRefused(TOO_MANY_COLUMNS, {"max": str(EXCEL_COLUMNS)})
        ref = attrs.get("r")
        if ref:
            letters = ref.rstrip("0123456789")
            self._column = COLUMN_INDEX.get(letters) or COLUMN_INDEX[letters.upper()]
        else:
            self._column += 1
        if self._column > self.max_columns:
            self._kind = None  # nobody's column: its text is not even collected
            return
        self._kind, self._style = attrs.get("t", "n"), attrs.get("s")
        self._value = self._formula = self._inline = None
        self._length = 0

    def end(self, name):
        self.depth -= 1
        tag = name[name.rfind(" ") + 1 :]
        if tag == "c":
            if self._kind is not None:
                self._end_cell()
            self._kind = self._target = None
        elif tag == "row":
            self._end_row()
        elif tag in ("v", "f", "t"):
            self._target = None
        elif tag == "rPh":
            self._phonetic = False

    def _end_cell(self):
        formula = None
        if self._formula is not None:
            formula = "".join(self._formula)
            if self._shared_formula is not None:
                formula = self._shared_formulas(self._shared_formula, formula)
        value = "".join(self._value) if self._value else None
        inline = "".join(self._inline) if self._inline is not None else None
        text, numeric = self.cell_value(self._kind, self._style, value, formula, inline)
        if text:
            self._kept += len(text)
            if self._kept > MAX_KEPT_CHARACTERS:
                raise UploadRefused(TOO_MUCH)
            self._row[self._column] = text
            if numeric:
                self._numeric.append(self._column - 1)

    def _shared_formulas(self, group: str, formula: str) -> str:
        # A formula is never a valid field, so the other cells of a shared formula keep its
        # first cell's text instead of being translated (10 us a cell with openpyxl's
        # Translator: seconds for a sheet of them). Only the report shows the difference.
        if group in self._groups:
            return self._groups[group]
        if formula:
            self._groups[group] = formula
        return formula

    def _end_row(self):
        if self._row:
            self.done.append((self.line, self._row, self._numeric))
        self._row = None

    def text(self, data):
        if self._target is not None:
            self._target.append(data)
            self._length += len(data)
            if self._length > MAX_CELL:
                raise _too_long()
