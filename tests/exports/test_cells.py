"""One rule for every file the product writes (app/exports/cells.py): what a spreadsheet would
run as a formula is written as text. Its downloads through HTTP: the upload templates, the
rejected-rows report, and the rule itself on the payloads."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from app import clock
from app.completions.models import CompletionBatch
from app.exports import cells, sheets
from tests.completions.uploads import staff_upload
from tests.exports.conftest import HOSTILE, csv_rows, no_formula, table, workbook
from tests.factories import make_course
from tests.files import utf8_bom_csv

SMALL_FORMS = ["﹦1+1", "﹢1", "﹣1", "﹫A1", "\u3000=1+1"]
HARMLESS = ["张三", "3701", "a=b", "QLU-DIG-01", "'=already quoted", "", "　"]


@pytest.mark.parametrize("text", HOSTILE + SMALL_FORMS)
def test_formula_like_texts_are_caught(text):
    assert cells.formula_like(text)
    assert cells.csv_text(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_texts_are_left_alone(text):
    assert not cells.formula_like(text)
    assert cells.csv_text(text) == text


def test_values_become_what_a_cell_shows():
    assert [cells.csv_text(v) for v in (None, 7, Decimal("85.0"), date(2026, 5, 1), "-")] == [
        "",
        "7",
        "85",
        "2026-05-01",
        "'-",
    ]


def test_both_files_hold_the_payloads_as_text():
    rows = [[text, n] for n, text in enumerate(HOSTILE + ["#N/A", "#DIV/0!"])]
    table_ = sheets.Table("表", ["文本", "序号"], rows)
    out = io.BytesIO()
    sheets.write_xlsx(out, [table_])
    sheet = workbook(out.getvalue()).worksheets[0]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == rows
    texts = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" and c.number_format == "@" for c in texts)  # #N/A no error
    assert [c.quotePrefix for c in texts] == [True] * len(HOSTILE) + [False, False]
    assert no_formula(out.getvalue())
    out = io.BytesIO()
    sheets.write_csv(out, [table_])
    assert [r[0] for r in csv_rows(out.getvalue())[1:]] == ["'" + h for h in HOSTILE] + [
        "#N/A",
        "#DIV/0!",
    ]


def test_the_upload_templates_are_written_through_the_rule(staff_a):
    for kind in ("completions", "roster"):
        response = staff_a.get(f"/staff/uploads/template/{kind}.xlsx")
        sheet = workbook(response).worksheets[0]
        header = next(sheet.iter_rows(max_row=1))
        assert all(c.data_type == "s" for c in header) and no_formula(response)
        rows = csv_rows(staff_a.get(f"/staff/uploads/template/{kind}.csv"))
        assert rows[0] == [c.value for c in header]


def test_the_rejected_rows_report_keeps_a_formula_like_name_as_text(client, session, university_a):
    course = make_course(session, university_a)
    done = (clock.today() - timedelta(days=2)).isoformat()
    row = ['=HYPERLINK("http://evil.example/","点击")', "not-an-id", course.code, done, "80"]
    staff_upload(client, session, university_a, "a.csv", utf8_bom_csv([row]))
    batch = session.exec(select(CompletionBatch)).one()
    response = client.get(f"/staff/uploads/{batch.id}/errors.xlsx")
    sheet = workbook(response).worksheets[0]
    assert table(sheet)[1][0] == row[0]
    name = sheet.cell(row=2, column=1)
    assert name.data_type == "s" and name.quotePrefix and no_formula(response)
