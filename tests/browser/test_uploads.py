"""A clerk's upload round in Debian's Chromium: download the template, fill it in, upload a
GBK CSV and the workbook, read the preview (grouped problems, nothing saved yet), save, and undo."""

import io
import re
from datetime import timedelta
from pathlib import Path

import openpyxl
from playwright.sync_api import expect
from sqlmodel import func, select

from app import clock
from app.completions.models import Completion
from app.i18n import translations
from tests import files
from tests.browser.conftest import browser, live_server, page  # noqa: F401  (fixtures)
from tests.factories import PASSWORD, make_course, make_enrollment, make_university, make_user

DONE = (clock.today() - timedelta(days=2)).isoformat()


def zh(message: str, **params) -> str:
    text = translations("zh").gettext(message)
    return text % params if params else text


def _completions(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Completion)).one()


def test_a_clerk_previews_saves_and_undoes_uploads(
    live_server,  # noqa: F811
    page,  # noqa: F811
    session,
    tmp_path,
):
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-UP-01", title="服装智能制造")
    people = {n: make_enrollment(session, course, name=n)[1] for n in ("张三", "欧阳娜娜", "李䶮")}
    staff = make_user(session, university=university)

    page.goto(f"{live_server}/login")
    page.fill("#f-email", staff.email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()
    page.goto(f"{live_server}/staff/uploads")

    # The template, as Chinese Excel would open it.
    with page.expect_download() as info:
        page.get_by_role("link", name=zh("Completions template (XLSX)")).click()
    template = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert [c.value for c in template.active[1]][:3] == ["姓名", "身份证号", "课程代码"]

    # A GBK CSV with a typo in one course code: the preview groups the problem, saves nothing.
    csv_file = tmp_path / "结业名单.csv"
    csv_file.write_bytes(
        files.gbk_csv(
            [
                ["张三", people["张三"], course.code, DONE, "85"],
                ["欧阳娜娜", people["欧阳娜娜"], "QLU-UP-0l", DONE, "良好"],
            ]
        )
    )
    page.set_input_files("#f-file", str(csv_file))
    page.get_by_role("button", name=zh("Upload and preview")).click()
    expect(page.locator("#batch-state")).to_contain_text(zh("Preview: nothing saved yet"))
    expect(page.locator("#n-accepted")).to_have_text("1")
    expect(page.locator("details.problem-group summary")).to_contain_text(
        zh("No course of your university has this code")
    )
    assert _completions(session) == 0
    page.get_by_role("button", name=zh("Save %(n)s rows", n=1)).click()
    expect(page.locator("p.flash")).to_contain_text(
        zh("Saved: %(new)s new and %(changed)s updated completions", new=1, changed=0)
    )
    assert _completions(session) == 1

    # The fixed row, and 李䶮 (which GBK cannot hold), in the template's workbook.
    sheet = template.active
    sheet.delete_rows(2)  # the example row
    for n, name in enumerate(("欧阳娜娜", "李䶮"), start=2):
        sheet.cell(n, 1, name)
        sheet.cell(n, 2, people[name])
        sheet.cell(n, 3, course.code)
        sheet.cell(n, 4, DONE)
        sheet.cell(n, 5, "合格")
    workbook = tmp_path / "结业名单.xlsx"
    template.save(workbook)
    page.goto(f"{live_server}/staff/uploads")
    page.set_input_files("#f-file", str(workbook))
    page.get_by_role("button", name=zh("Upload and preview")).click()
    expect(page.locator("#n-accepted")).to_have_text("2")
    page.get_by_role("button", name=zh("Save %(n)s rows", n=2)).click()
    expect(page.locator("#batch-state")).to_contain_text(zh("Saved"))
    assert _completions(session) == 3

    # Undone: its two completions no longer count; the history says so.
    page.get_by_role("button", name=zh("Undo this upload")).click()
    expect(page.locator("p.flash")).to_have_text(zh("Undone: its completions no longer count"))
    assert _completions(session) == 1
    page.goto(f"{live_server}/staff/uploads")
    expect(page.locator("table.history tbody tr").first).to_contain_text(zh("undone"))
    assert re.search(r"结业名单\.csv", page.content())
