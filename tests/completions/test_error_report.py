"""The rejected-rows report: the rows as sent, as text, whatever they hold."""

import io
from datetime import timedelta

import openpyxl
from sqlmodel import select

from app import clock
from app.completions import parsing
from app.completions.models import CompletionBatch
from tests.completions.uploads import staff_upload
from tests.files import utf8_bom_csv

DONE = (clock.today() - timedelta(days=2)).isoformat()


def _report(client, session) -> list[list[str]]:
    batch = session.exec(select(CompletionBatch)).one()
    response = client.get(f"/staff/uploads/{batch.id}/errors.xlsx")
    assert response.status_code == 200
    # The file's rows hold full ID numbers: no cache on the way may keep it.
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert all(
        cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value is not None
    )
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_error_report_with_control_characters(client, session, campus):
    number = campus["ids"][0]
    row = ["张\x01三", number[:6] + "\x07" + number[6:], "QLU-DIG-01\x1b", DONE, "80"]
    staff_upload(client, session, campus["a"], "a.csv", utf8_bom_csv([row]))
    table = _report(client, session)
    assert table[1][:3] == ["张\ufffd三", number[:6] + "\ufffd" + number[6:], "QLU-DIG-01\ufffd"]


def test_error_report_of_a_file_the_parser_refuses_since(client, session, campus, monkeypatch):
    row = ["王五", campus["outsider"], "QDU-DIG-01", DONE, "80"]
    staff_upload(client, session, campus["a"], "a.csv", utf8_bom_csv([row]))
    monkeypatch.setattr(parsing, "MAX_ROWS", 0)  # limits tightened after the upload
    assert _report(client, session) == [["行号", "原因"], ["2", "本校没有该代码的课程"]]


def test_a_report_of_thousands_of_rejected_rows_lists_the_first_and_says_how_many_more(
    client, session, campus, monkeypatch
):
    from app.completions import report

    monkeypatch.setattr(report, "REPORT_ROWS", 2)
    rows = [["张三", "not-an-id", "QLU-DIG-01", DONE, ""] for _ in range(5)]
    staff_upload(client, session, campus["a"], "a.csv", utf8_bom_csv(rows))
    table = _report(client, session)
    assert len(table) == 1 + 2 + 1 and "3" in table[-1][-1] and "未列出" in table[-1][-1]
    assert table[1][:2] == ["张三", "not-an-id"] and table[1][-2] == "2"
