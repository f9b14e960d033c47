"""The completions and certificates of a date range, exported as XLSX and CSV through the page:
a job whose page offers the file; text a spreadsheet would run stays text; ID numbers masked
unless asked for in full (audited); staff get their own university's rows, jobs and files."""

import json
import re

from sqlmodel import select

from app.audit.models import AuditEvent
from app.exports import service
from app.jobs.models import Job
from app.trainees.models import Trainee
from tests.exports.conftest import (
    END,
    HOSTILE,
    START,
    csv_rows,
    download,
    export,
    filenames,
    no_formula,
    table,
    workbook,
)
from tests.html import field_errors, flash, page

HEADER = [
    "高校",
    "课程代码",
    "课程名称",
    "姓名",
    "身份证号码",
    "单位名称",
    "统一社会信用代码",
    "所在地市",
    "结业日期",
    "学时",
    "成绩",
    "证书编号",
    "状态",
    "发证日期",
]
COMPANY, ID, TITLE = HEADER.index("单位名称"), HEADER.index("身份证号码"), HEADER.index("课程名称")
MASKED = re.compile(r"^\d{3}\*{11}[\dX]{4}$")


def _events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_xlsx_export_keeps_every_formula_like_text_as_text(admin, session, data):
    job_page = export(admin, "/admin/exports", kind="completions", format="xlsx")
    assert flash(job_page) == "正在导出：文件生成后即可在此下载"
    job = session.exec(select(Job)).one()
    assert (job.kind, job.state, job.university_id) == ("exports.completions", "done", None)
    response = download(admin, job_page)
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["cache-control"] == "private, no-store"
    book = workbook(response)
    assert book.sheetnames == ["结业记录", "说明"]
    sheet = book["结业记录"]
    rows = table(sheet)
    assert rows[0] == HEADER
    # Both universities (an administrator's export), the trainee with two courses twice, and
    # nothing completed before the range.
    assert len(rows) == 1 + len(HOSTILE) + 1 + 1
    assert [r[COMPANY] for r in rows[1 : len(HOSTILE) + 1]] == HOSTILE  # CR and LF included
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value in HOSTILE]
    assert len(cells) == len(HOSTILE) + 1  # the trainee's second completion, same company
    assert all(c.data_type == "s" and c.number_format == "@" and c.quotePrefix for c in cells)
    assert rows[1][TITLE] == "=1+1 纺织设计"
    assert sheet.cell(row=2, column=TITLE + 1).quotePrefix
    assert no_formula(response)
    assert all(MASKED.match(r[ID]) for r in rows[1:])
    assert not any(n.encode() in response.content for n in data["ids"])


def test_a_csv_export_puts_a_quote_before_every_formula_like_text(admin, data):
    response = download(admin, export(admin, "/admin/exports", kind="completions", format="csv"))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert [r[COMPANY] for r in rows[1 : len(HOSTILE) + 1]] == ["'" + h for h in HOSTILE]
    assert rows[1][TITLE] == "'=1+1 纺织设计"
    assert rows[1][HEADER.index("结业日期")] and rows[1][HEADER.index("状态")] == "已结业，未发证"
    assert all(MASKED.match(r[ID]) for r in rows[1:])


def test_full_id_numbers_are_given_when_asked_and_audited(admin, session, data):
    job_page = export(admin, "/admin/exports", kind="completions", format="csv", full_ids="on")
    [created] = _events(session, "export.create")
    detail = json.loads(created.detail)
    assert detail["id_numbers"] == "full" and detail["rows"] == len(HOSTILE) + 2
    assert created.actor == f"user:{admin.user.id}"
    rows = csv_rows(download(admin, job_page))
    assert [r[ID] for r in rows[1 : len(HOSTILE) + 1]] == data["ids"]
    assert data["id_b"] in {r[ID] for r in rows[1:]}
    [taken] = _events(session, "export.download")
    assert (
        taken.actor == f"user:{admin.user.id}" and json.loads(taken.detail)["id_numbers"] == "full"
    )
    for event in (created, taken):
        assert not any(n in event.detail for n in data["ids"])


def test_a_masked_export_is_audited_as_masked_and_its_download_is_not(admin, session, data):
    download(admin, export(admin, "/admin/exports", kind="completions", format="xlsx"))
    [created] = _events(session, "export.create")
    assert json.loads(created.detail)["id_numbers"] == "masked"
    assert _events(session, "export.download") == []


def test_staff_get_their_own_universitys_rows_jobs_and_files(staff_a, staff_b, session, data):
    job_page = export(staff_a, "/staff/exports", kind="completions", format="csv")
    response = download(staff_a, job_page)
    rows = csv_rows(response)
    assert {r[0] for r in rows[1:]} == {"山东理工大学"}
    assert data["id_b"] not in response.text and len(rows) == 1 + len(HOSTILE) + 1
    assert not any(n in response.text for n in data["ids"])  # masked
    job = session.exec(select(Job)).one()
    assert job.university_id == staff_a.university.id
    assert json.loads(_events(session, "export.create")[0].detail)["id_numbers"] == "masked"
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/exports/{job.id}/file"):
        assert staff_b.get(path).status_code == 404, path
    assert f"/jobs/{job.id}" not in staff_b.get("/staff/exports").text
    assert f"/jobs/{job.id}" in staff_a.get("/staff/exports").text


def test_full_id_numbers_in_a_completions_export_are_the_administrators(staff_a, session, data):
    answer = export(staff_a, "/staff/exports", kind="completions", format="csv", full_ids="on")
    assert answer.status_code == 422
    assert "只有管理员" in field_errors(answer)["full_ids"]
    assert session.exec(select(Job)).first() is None and _events(session, "export.create") == []


def test_staff_cannot_reach_the_alliances_exports(admin, staff_a, data):
    job_page = export(admin, "/admin/exports", kind="completions", format="xlsx")
    link = page(job_page).select_one('a[href$="/file"]')
    assert staff_a.get(link["href"]).status_code == 404
    assert staff_a.get("/admin/exports").status_code == 403
    assert admin.get("/staff/exports").status_code == 403


def test_an_empty_range_says_so_beside_the_dates_and_makes_no_file(admin, session, data):
    response = export(
        admin, "/admin/exports", kind="completions", date_from="2001-01-01", date_to="2001-12-31"
    )
    assert response.status_code == 422
    assert field_errors(response)["date_from"] == (
        "2001-01-01 至 2001-12-31 没有结业记录，没有可导出的内容。请换一个日期范围。"
    )
    assert session.exec(select(Job)).all() == []


def test_bad_dates_are_field_errors_and_what_was_typed_stays(admin, session, data):
    cases = [
        ({"date_from": "2026-02-30"}, "date_from", "日历上没有这一天"),
        ({"date_from": END, "date_to": START}, "date_to", "结束日期早于开始日期"),
        ({"date_from": ""}, "date_from", "请按 2026-05-01 的格式填写日期"),
        ({"date_to": "下周"}, "date_to", "请按 2026-05-01 的格式填写日期"),
        ({"date_from": "1899-01-01"}, "date_from", "请输入 2000 年至 2100 年之间的日期"),
    ]
    for form, name, message in cases:
        response = export(admin, "/admin/exports", kind="completions", **form)
        assert response.status_code == 422, form
        assert field_errors(response) == {name: message}, form
    response = export(admin, "/admin/exports", kind="completions", date_to="下周")
    assert page(response).select_one("#f-date_to")["value"] == "下周"
    assert session.exec(select(Job)).all() == []


def test_dates_typed_the_chinese_way_are_read(admin, data):
    typed = {
        "date_from": f"{START.year}年{START.month}月{START.day}日",
        "date_to": f"{END:%Y/%m/%d}",
    }
    response = export(admin, "/admin/exports", kind="completions", **typed)
    assert response.status_code == 200 and flash(response).startswith("正在导出")


def test_the_file_is_named_in_chinese_as_rfc_6266_says(admin, staff_a, data):
    response = download(admin, export(admin, "/admin/exports", kind="completions", format="xlsx"))
    assert filenames(response) == (
        f"结业与证书清单 {START}_{END}.xlsx",
        f"completions-{START}_{END}.xlsx",
    )
    response = download(staff_a, export(staff_a, "/staff/exports", kind="goals", format="csv"))
    code = staff_a.university.code
    assert filenames(response) == (
        f"{code}-目标汇总 {START}_{END}.csv",
        f"{code}-goals-{START}_{END}.csv",
    )


def test_the_form_links_from_the_administration_and_the_staff_home(admin, staff_a):
    assert page(admin.get("/admin")).select_one('a[href="/admin/exports"]') is not None
    assert page(staff_a.get("/staff")).select_one('a[href="/staff/exports"]') is not None
    form = page(staff_a.get("/staff/exports")).select_one("form#export-form")
    assert form["action"] == "/staff/exports"
    assert {i["name"] for i in form.select("input[name]")} >= {
        "csrf_token",
        "kind",
        "format",
        "date_from",
        "date_to",
        "course_code",
        "full_ids",
    }


def test_trainee_masks_are_what_the_export_shows(admin, session, data):
    rows = csv_rows(
        download(admin, export(admin, "/admin/exports", kind="completions", format="csv"))
    )
    masks = {t.id_masked for t in session.exec(select(Trainee))}
    assert {r[ID] for r in rows[1:]} <= masks


def test_the_rows_are_read_in_parts_and_joined_in_order(
    admin, session, settings, data, monkeypatch
):
    monkeypatch.setattr(service, "PART_ROWS", 5)  # 14 completions: three parts, then the file
    response = download(admin, export(admin, "/admin/exports", kind="completions", format="xlsx"))
    session.expire_all()
    job = session.exec(select(Job)).one()
    assert (job.total, job.done, job.failed) == (4, 4, 0)
    rows = table(workbook(response)["结业记录"])
    assert [r[COMPANY] for r in rows[1 : len(HOSTILE) + 1]] == HOSTILE
    kept = sorted(p.name for p in (settings.data_dir / "exports").iterdir())
    assert kept == [f"{job.id}.xlsx.enc"]  # the parts are gone; the file is encrypted
    assert b"PK" not in (settings.data_dir / "exports" / kept[0]).read_bytes()[:4]
