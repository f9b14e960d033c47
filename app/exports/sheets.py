"""The files: a workbook (XLSX) or a CSV of tables, every cell through app/exports/cells.py.

The workbook is written here as SpreadsheetML, streamed into its zip a row at a time:
openpyxl's writer (pure Python here, without lxml) spends 20-30 microseconds a cell, half a
minute for a year of completions, while a row is one string here. What it holds is the least
Excel needs, and what openpyxl, calamine and our own upload reader read back: inline strings,
five cell formats (sheets.STYLES), the header row frozen, column widths. A job's parts render
their rows beforehand (render()), so the file is then only joined.
"""

import codecs
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openpyxl.utils import get_column_letter

from app.exports import cells

XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# 0 general (numbers); 1 text "@"; 2 text with the quote prefix; 3 and 4 the same, bold.
STYLES = (
    XML + f'<styleSheet xmlns="{MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    + "".join(
        f'<xf numFmtId="49" fontId="{font}" fillId="0" borderId="0" xfId="0" '
        f'applyNumberFormat="1"{bold}{quote}/>'
        for font, bold in ((0, ""), (1, ' applyFont="1"'))
        for quote in ("", ' quotePrefix="1"')
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
_NOT_IN_TITLE = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Table:
    """One table of a file: a sheet of a workbook, a block of a CSV."""

    title: str  # the sheet's name; in a CSV of several tables, the line above each
    header: Sequence[str]
    rows: Iterable[Sequence[Any]] = ()
    widths: Sequence[int] = ()  # column widths in characters, XLSX only
    # Rows render()ed already, for this format: XLSX one row's cells a line, CSV its lines.
    rendered: Iterable[str] | None = None


def render(rows: Iterable[Sequence[Any]], fmt: str) -> str:
    """Rows ready for the file: for XLSX each row's cells on a line of its own (line breaks
    inside cells are references), for CSV the CSV lines."""
    if fmt == "xlsx":
        return "".join(_row_cells(row) + "\n" for row in rows)
    return cells.csv_lines(rows)


def _row_cells(row: Sequence[Any]) -> str:
    return cells.xlsx_cells(row) or "<c/>"  # a row with nothing in it is still a row


def write(out: IO[bytes], fmt: str, tables: Sequence[Table], notes: Table | None = None) -> None:
    (write_xlsx if fmt == "xlsx" else write_csv)(out, tables, notes)


def write_xlsx(out: IO[bytes], tables: Sequence[Table], notes: Table | None = None) -> None:
    """The tables as sheets, the notes (what the figures mean, the range, who asked) as a last
    sheet."""
    sheets = [*tables, *([notes] if notes else [])]
    titles = _titles(sheets)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _relationships([("officeDocument", "xl/workbook.xml")]))
        archive.writestr("xl/workbook.xml", _workbook(titles))
        targets = [("worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)]
        archive.writestr(
            "xl/_rels/workbook.xml.rels", _relationships([*targets, ("styles", "styles.xml")])
        )
        archive.writestr("xl/styles.xml", STYLES)
        for n, table in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w") as part:
                _sheet(part, table, frozen=table is not notes)


def _sheet(part: IO[bytes], table: Table, *, frozen: bool) -> None:
    view = (
        '<sheetViews><sheetView workbookViewId="0">'
        + (
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            if frozen
            else ""
        )
        + "</sheetView></sheetViews>"
    )
    widths = "".join(
        f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>'
        for n, w in enumerate(table.widths, start=1)
    )
    head = f'{XML}<worksheet xmlns="{MAIN}">{_dimension(table)}{view}'
    head += f"<cols>{widths}</cols>" if widths else ""
    part.write(
        f'{head}<sheetData><row r="1">{cells.xlsx_cells(table.header, header=True)}</row>'.encode()
    )
    lines = table.rendered if table.rendered is not None else map(_row_cells, table.rows)
    n = 1
    buffer: list[str] = []
    for chunk in lines:
        for line in chunk.split("\n"):
            if line:
                n += 1
                buffer.append(f'<row r="{n}">{line}</row>')
        if len(buffer) >= 1000:
            part.write("".join(buffer).encode())
            buffer.clear()
    part.write(("".join(buffer) + "</sheetData></worksheet>").encode())


def _dimension(table: Table) -> str:
    """The sheet's extent, when its rows are known before they are written: readers size
    their work by it (our own upload reads a large sheet in the background)."""
    if table.rendered is not None or not isinstance(table.rows, Sequence):
        return ""
    columns = max([len(table.header), *(len(r) for r in table.rows)])
    last = f"{get_column_letter(max(columns, 1))}{len(table.rows) + 1}"
    return f'<dimension ref="A1:{last}"/>'


def _titles(sheets: Sequence[Table]) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, never empty, never twice."""
    found: list[str] = []
    for table in sheets:
        title = _NOT_IN_TITLE.sub(" ", cells.xml_text(table.title)).strip()[:31] or "Sheet"
        base, n = title, 1
        while title.lower() in (t.lower() for t in found):
            n += 1
            title = f"{base[: 31 - len(str(n)) - 1]} {n}"
        found.append(title)
    return found


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _content_types(sheets: int) -> str:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{XML}<Types xmlns="{_PACKAGE}/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
        f"{overrides}</Types>"
    )


def _relationships(targets: list[tuple[str, str]]) -> str:
    found = "".join(
        f'<Relationship Id="rId{n}" Type="{RELATIONSHIPS}/{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return f'{XML}<Relationships xmlns="{_PACKAGE}/relationships">{found}</Relationships>'


def _workbook(titles: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{_escaped(t)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, t in enumerate(titles, start=1)
    )
    namespaces = f'xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"'
    return f"{XML}<workbook {namespaces}><sheets>{sheets}</sheets></workbook>"


def write_csv(out: IO[bytes], tables: Sequence[Table], notes: Table | None = None) -> None:
    """UTF-8 with a byte-order mark, which Chinese Excel opens as UTF-8 (without it, as GBK),
    CRLF line ends. One table: its header, then its rows (no notes: a file for programs too).
    Several: the notes' lines first, then each table under its title, a blank line before
    each."""
    out.write(codecs.BOM_UTF8)
    several = len(tables) > 1
    if several and notes:
        out.write(cells.csv_lines([notes.header, *notes.rows]).encode())
    for table in tables:
        if several:
            out.write(b"\r\n" + cells.csv_lines([[table.title]]).encode())
        out.write(cells.csv_lines([table.header]).encode())
        chunks = table.rendered if table.rendered is not None else _csv_chunks(table.rows)
        for chunk in chunks:
            out.write(chunk.encode())


def _csv_chunks(rows: Iterable[Sequence[Any]], size: int = 1000) -> Iterable[str]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield cells.csv_lines(batch)
            batch = []
    yield cells.csv_lines(batch)


def text_workbook(rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet of text cells, the first row its header: Excel keeps 18-digit ID numbers
    intact (a CSV would turn them into 3.70102E+17), and no cell runs as a formula."""
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    out = io.BytesIO()
    write_xlsx(out, [Table("Sheet", rows[0] if rows else [], rows[1:])])
    return out.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """One table as a CSV (UTF-8 with a byte-order mark), the first row its header."""
    rows = list(rows)
    out = io.BytesIO()
    write_csv(out, [Table("", rows[0] if rows else [], rows[1:])])
    return out.getvalue()
