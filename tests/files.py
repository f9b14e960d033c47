"""Real upload files, built the way Chinese Excel writes them.

"CSV (逗号分隔)" is the Windows ANSI code page 936 (GBK) with CRLF and no BOM;
"CSV UTF-8" is UTF-8 with a BOM and CRLF. Excel writes a character that GBK lacks
(䶮, 𠮷) as "?", and so does gbk_csv: that loss happens before the file reaches us.
"""

import codecs
import csv
import io

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
