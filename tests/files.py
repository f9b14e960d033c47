"""Real upload files, built the way Chinese Excel writes them.

"CSV (逗号分隔)" is the Windows ANSI code page 936 (GBK) with CRLF and no BOM;
"CSV UTF-8" is UTF-8 with a BOM and CRLF. Excel writes a character that GBK lacks
(䶮, 𠮷) as "?", and so does gbk_csv: that loss happens before the file reaches us.
"""

import codecs
import csv
import io
import zipfile
from xml.sax.saxutils import escape

import openpyxl

CHINESE_HEADER = ["姓名", "身份证号", "课程代码", "结业日期", "成绩"]
ENGLISH_HEADER = ["name", "id_number", "course_code", "completed_on", "score"]
_ID_HEADERS = {"身份证号", "身份证号码", "证件号码", "id_number"}


def csv_text(
    rows: list[list[str]], header: list[str] = CHINESE_HEADER, *, delimiter: str = ","
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def gbk_csv(rows: list[list[str]], header: list[str] = CHINESE_HEADER) -> bytes:
    return csv_text(rows, header).encode("gbk", errors="replace")


def utf8_bom_csv(rows: list[list[str]], header: list[str] = CHINESE_HEADER) -> bytes:
    return codecs.BOM_UTF8 + csv_text(rows, header).encode("utf-8")


def xlsx(
    rows: list[list[object]], header: list[str] = CHINESE_HEADER, id_as_text: bool = True
) -> bytes:
    """Cells are written as given (datetime, numbers, "=A1" formulas), except the ID column:
    text cells formatted '@' as in our template, or numbers as a careless user types them."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    id_column = next((i for i, name in enumerate(header) if name in _ID_HEADERS), None)
    for line, values in enumerate(rows, start=2):
        values = list(values)
        if id_column is not None and id_column < len(values):
            values[id_column] = _id_cell(values[id_column], id_as_text)
        sheet.append(values)
        if id_as_text and id_column is not None:
            sheet.cell(row=line, column=id_column + 1).number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _id_cell(value: object, as_text: bool) -> object:
    if value is None:
        return None
    text = str(value)
    if as_text or not text.isdigit():
        return text  # an ID ending in X stays text even when typed carelessly
    return int(text)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def raw_xlsx(
    sheet_data: str | bytes,
    *,
    strings: bytes | None = None,
    styles: bytes | None = None,
    extra: dict[str, bytes] | None = None,
    date1904: bool = False,
) -> bytes:
    """A workbook zipped by hand, for what openpyxl never writes: rows numbered far down,
    cells in column XFD, giant shared-string tables. sheet_data is the inside of <sheetData>,
    or a whole sheet part when it starts with "<?xml"."""
    if isinstance(sheet_data, str):
        sheet_data = sheet_data.encode()
    if not sheet_data.startswith(b"<?xml"):
        sheet_data = (
            (
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
            ).encode()
            + sheet_data
            + b"</sheetData></worksheet>"
        )
    rels = f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    types = f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    if strings is not None:
        rels += f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        types += (
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        )
    if styles is not None:
        rels += f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>'
        types += f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f"{types}</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            f'<workbookPr date1904="{int(date1904)}"/>'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">{rels}'
            "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_data,
    }
    if strings is not None:
        members["xl/sharedStrings.xml"] = strings
    if styles is not None:
        members["xl/styles.xml"] = styles
    members.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def inline_row(line: int, cells: list[str], first_column: str = "A") -> str:
    """One <row> of inline-string cells, as some generators write them."""
    start = ord(first_column) - ord("A")
    return (
        f'<row r="{line}">'
        + "".join(
            f'<c r="{chr(ord("A") + start + i)}{line}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
            for i, text in enumerate(cells)
        )
        + "</row>"
    )


def cell_styles(*number_formats: str) -> bytes:
    """A styles part whose cell style i+1 has number_formats[i] (style 0 stays General)."""
    codes = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{escape(code, {chr(34): "&quot;"})}"/>'
        for i, code in enumerate(number_formats)
    )
    xfs = '<xf numFmtId="0"/>' + "".join(
        f'<xf numFmtId="{164 + i}" applyNumberFormat="1"/>' for i in range(len(number_formats))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(number_formats)}">{codes}</numFmts>'
        f'<cellXfs count="{len(number_formats) + 1}">{xfs}</cellXfs></styleSheet>'
    ).encode()


def shared_strings(texts: list[str]) -> bytes:
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in texts)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="{len(texts)}" '
        f'uniqueCount="{len(texts)}">{items}</sst>'
    ).encode()
