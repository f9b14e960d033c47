"""The files a clerk fills in and sends back: the upload templates (completions, and the roster
whose upload comes later), as XLSX and as CSV.

Headers are the Chinese ones parsing's aliases know, so that a file uploads back as it is.
The templates' example row can never be saved: its course code cell says "example, delete
this row", which no course code can be (codes are ASCII letters, digits, - and _). Left in,
it is one refused row beside the others.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from app.exports.cells import put
from app.exports.sheets import csv_bytes
from app.i18n import N_

Translate = Callable[..., str]

# GB 11643's own sample number: its check character is right, so the row fails for its
# course code alone, and anyone who has read the standard knows it for a sample.
EXAMPLE_ID = "11010519491231002X"
EXAMPLE_MARK = N_("EXAMPLE: delete this row")
EXAMPLE_COMPANY = N_("Example Textile Co., Ltd.")
_TRANSLATED = {EXAMPLE_MARK, EXAMPLE_COMPANY}  # the other examples are names and numbers
TEXT, DATE, COURSE, NUMBER = "text", "date", "course", "number"
_FORMATS = {DATE: "yyyy-mm-dd", NUMBER: "General"}  # every other kind is text, "@"
LAST_ROW = 1_048_576  # Excel's: the formats and the course list cover every row a clerk adds
_AUTHOR = "Dandelion"
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FONT = Font(italic=True, color="808080")


@dataclass(frozen=True)
class Column:
    header: str  # Chinese, as parsing's aliases know it: the uploads read these names
    hint: str  # N_(): what goes in, the header cell's comment
    width: int
    example: str | date | int
    kind: str = TEXT  # TEXT, DATE, COURSE (a text cell chosen from the course codes) or NUMBER


@dataclass(frozen=True)
class Template:
    sheet: str  # N_()
    filename: str  # N_(), without the extension
    ascii_name: str  # the fallback file name for clients that do not read filename*
    columns: tuple[Column, ...]


_NAME = Column(
    "姓名", N_("Optional: the trainee's name; when given, it must match the enrollment"), 12, "张三"
)
_ID = Column(
    "身份证号",
    N_("The 18-character ID number. The column is text, so Excel keeps every digit"),
    22,
    EXAMPLE_ID,
)
_COURSE = Column(
    "课程代码",
    N_("Choose one of your university's course codes from the list"),
    16,
    EXAMPLE_MARK,
    COURSE,
)
_COMPLETED = Column(
    "结业日期",
    N_("The completion date, such as 2026-05-01; not after today"),
    14,
    date(2026, 5, 1),
    DATE,
)
_SCORE = Column("成绩", N_("Optional: a score from 0 to 100, one decimal at most"), 8, 90, NUMBER)

COMPLETIONS = Template(
    N_("Completions"),
    N_("Completions template"),
    "completions-template",
    (_NAME, _ID, _COURSE, _COMPLETED, _SCORE),
)
ROSTER = Template(
    N_("Trainees"),
    N_("Roster template"),
    "roster-template",
    (
        Column("姓名", N_("The trainee's name as on the ID card"), 12, "张三"),
        _ID,
        Column("手机号", N_("The trainee's 11-digit mobile number"), 14, "13800138000"),
        Column(
            "工作单位统一社会信用代码",
            N_("The employer's 18-character unified social credit code"),
            24,
            "91370100MA0000000W",
        ),
        Column(
            "工作单位名称",
            N_("The employer's full registered name"),
            28,
            EXAMPLE_COMPANY,
        ),
        _COURSE,
        _COMPLETED,
        _SCORE,
    ),
)
TEMPLATES = {"completions": COMPLETIONS, "roster": ROSTER}


def template_xlsx(template: Template, course_codes: list[str], *, translate: Translate) -> bytes:
    """The template as a workbook: the header with a comment in each cell, the example row,
    the columns formatted for every row a clerk adds, the course codes as a list to pick from."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = translate(template.sheet)
    for index, column in enumerate(template.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        # The column's own format: the cells a clerk types into later take it from there.
        sheet.column_dimensions[letter].number_format = _FORMATS.get(column.kind, "@")
        # Through cells.put, as every file the product writes: text stays text.
        header = put(sheet.cell(row=1, column=index), column.header)
        header.font, header.fill = Font(bold=True), _HEADER_FILL
        header.comment = _comment(translate(column.hint))
        example = put(sheet.cell(row=2, column=index), _example(column, translate))
        example.font = _EXAMPLE_FONT
        example.number_format = sheet.column_dimensions[letter].number_format
        if column.kind == COURSE:
            example.comment = _comment(
                translate(
                    N_(
                        "Row 2 is an example: delete it. Left in, it is refused (no course "
                        "has this code) and the other rows are saved all the same."
                    )
                )
            )
            _course_list(workbook, sheet, f"{letter}2:{letter}{LAST_ROW}", course_codes, translate)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(template: Template, *, translate: Translate) -> bytes:
    """UTF-8 with a byte-order mark, which Chinese Excel opens as UTF-8 (without it, as GBK)."""
    return csv_bytes(
        [[c.header for c in template.columns], [_example(c, translate) for c in template.columns]]
    )


def _example(column: Column, translate: Translate) -> str | date | int:
    return translate(column.example) if column.example in _TRANSLATED else column.example


def _comment(text: str) -> Comment:
    comment = Comment(text, _AUTHOR)
    comment.width, comment.height = 240, 80  # points: the default box cuts Chinese text short
    return comment


def _course_list(
    workbook: Workbook, sheet, cells: str, codes: list[str], translate: Translate
) -> None:
    """A drop-down of the university's course codes: inline when it fits Excel's 255
    characters, else from a hidden sheet after the first (the one uploads read)."""
    if not codes:
        return  # nothing to choose from: a list that refuses every code would only get in the way
    inline = ",".join(codes)  # codes hold no comma or quote (fields.Code)
    if len(inline) <= 255:
        formula = f'"{inline}"'
    else:
        hidden = workbook.create_sheet(translate(N_("Course codes")))
        hidden.sheet_state = "hidden"
        for row, code in enumerate(codes, start=1):
            put(hidden.cell(row=row, column=1), code)
        workbook.defined_names["CourseCodes"] = DefinedName(
            "CourseCodes", attr_text=f"{quote_sheetname(hidden.title)}!$A$1:$A${len(codes)}"
        )
        formula = "CourseCodes"
    rule = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",  # a course created after the download can still be typed
        errorTitle=translate(N_("Course code")),
        error=translate(N_("This is not one of your university's course codes")),
    )
    rule.add(cells)
    sheet.add_data_validation(rule)
