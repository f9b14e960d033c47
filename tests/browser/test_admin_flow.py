"""Issue 9 done, as an administrator clicks it in Debian's Chromium, against the app on its real
queue with a `dandelion worker` beside it: the targets and the campaign period (a reversed
period refused beside the field first), the dashboard's map and monthly chart, the last
complete quarter's goal summary as XLSX (the job page's bar followed to its end, the file read
back with openpyxl), the last complete month's report as one page of PDF (read with pypdf), and
a staff account created, logged in in another browser, deactivated, and refused at its next
click.

The records: 齐鲁工业大学 (Jinan) has three trainees of the Qingdao company "=1+1" complete in
the quarter and one of a Yantai company before it, so the live dashboard counts four talents,
three of them in Qingdao, and the quarter's summary three."""

import io
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pypdf
from playwright.sync_api import expect

from app import clock
from app.goals.definitions import FIGURES
from app.i18n import translations
from tests.browser.conftest import browser, page, server_and_worker  # noqa: F401  (fixtures)
from tests.factories import (
    PASSWORD,
    TOTP_SECRETS,
    make_company,
    make_completion,
    make_course,
    make_enrollment,
    make_university,
    make_user,
    totp_code,
)

TODAY = clock.today()
MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the last complete month
QUARTER_END = TODAY.replace(month=(TODAY.month - 1) // 3 * 3 + 1, day=1) - timedelta(days=1)
QUARTER_START = QUARTER_END.replace(month=QUARTER_END.month - 2, day=1)
PERIOD = (date(QUARTER_START.year - 1, 1, 1), date(TODAY.year + 1, 12, 31))
STAFF_EMAIL = "li.na@qlu.edu.cn"


def zh(message: str, **params) -> str:
    text = translations("zh").gettext(message)
    return text % params if params else text


def _seed(session) -> None:
    university = make_university(session, code="QLU", name="齐鲁工业大学", city_code="3701")
    course = make_course(
        session,
        university,
        code="QLU-DASH-01",
        starts_on=PERIOD[0],
        ends_on=TODAY + timedelta(days=30),
    )
    qingdao = make_company(session, name="=1+1", city_code="3702")
    yantai = make_company(session, name="烟台海岸服饰有限公司", city_code="3706")
    for name in ("张伟", "王芳", "刘洋"):
        enrollment, _ = make_enrollment(session, course, name=name, company=qingdao)
        make_completion(session, enrollment, course, completed_on=QUARTER_START + timedelta(14))
    enrollment, _ = make_enrollment(session, course, name="陈静", company=yantai)
    make_completion(session, enrollment, course, completed_on=QUARTER_START - timedelta(20))
    session.commit()


def _log_in(tab, base: str, email: str, password: str) -> None:
    tab.goto(f"{base}/login")
    tab.fill("#f-email", email)
    tab.fill("#f-password", password)
    tab.get_by_role("button", name=zh("Log in")).click()
    if email in TOTP_SECRETS:  # an administrator's second step: the authenticator's code
        tab.wait_for_url("**/login/code")
        tab.fill("#f-code", totp_code(email))
        tab.get_by_role("button", name=zh("Log in")).click()


def _rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_an_administrator_plans_reads_exports_prints_and_manages_staff(
    server_and_worker,  # noqa: F811
    page,  # noqa: F811
    browser,  # noqa: F811
    session,
):
    base = server_and_worker
    _seed(session)
    admin = make_user(session, role="admin")
    _log_in(page, base, admin.email, PASSWORD)
    expect(page).to_have_url(f"{base}/admin")

    # The targets and the campaign period: a period that ends before it starts is refused
    # beside its field, nothing saved; then the right one is saved.
    page.goto(f"{base}/admin/goals")
    plan = page.locator("form.plan")
    plan.locator("#f-universities").fill("60")
    plan.locator("#f-companies").fill("600")
    plan.locator("#f-talents").fill("6000")
    plan.locator("#f-starts_on").fill(PERIOD[1].isoformat())
    plan.locator("#f-ends_on").fill(PERIOD[0].isoformat())
    plan.get_by_role("button", name=zh("Save targets and period")).click()
    expect(page.locator("#e-ends_on")).to_have_text(zh("The period must end after it starts"))
    expect(page.locator("#f-ends_on")).to_have_attribute("aria-invalid", "true")
    expect(
        page.locator("p.hint", has_text=zh("Not saved yet: these are the installation's defaults."))
    ).to_be_visible()
    plan.locator("#f-starts_on").fill(PERIOD[0].isoformat())
    plan.locator("#f-ends_on").fill(PERIOD[1].isoformat())
    plan.get_by_role("button", name=zh("Save targets and period")).click()
    expect(page.locator(".flash")).to_have_text(zh("Targets and campaign period saved"))
    expect(page.locator("p.period")).to_have_text(
        zh("Campaign period: %(start)s to %(end)s", start=PERIOD[0], end=PERIOD[1])
    )
    expect(page.locator("#goal-talents .goal-count")).to_have_text("4 / 6000")
    expect(page.locator("#goal-companies .goal-count")).to_have_text("2 / 600")
    expect(page.locator("#goal-universities .goal-count")).to_have_text("1 / 60")

    # The map of the 16 cities and the monthly chart: SVG, their counts as text.
    tiles = page.locator("#map svg.tile-map g.tile")
    expect(tiles).to_have_count(16)
    expect(page.locator("#map g.tile[data-city='3702'] text.count")).to_have_text("3")
    expect(page.locator("#map g.tile[data-city='3706'] text.count")).to_have_text("1")
    expect(page.locator("#map g.tile[data-city='3701'] text.count")).to_have_text("0")
    charts = page.locator("svg.chart-svg.cumulative")
    expect(charts).to_have_count(3)
    talents_chart = page.locator(".charts > div").filter(
        has=page.get_by_role("heading", name=zh("Digital talents cultivated"), exact=True)
    )
    expect(talents_chart.locator("svg.cumulative text.count")).to_have_text("4")
    expect(talents_chart.locator("svg.cumulative text.target")).to_have_text("6000")

    # The last complete quarter's goal summary as XLSX, made by the worker.
    page.goto(f"{base}/admin")
    page.get_by_role("link", name=zh("Exports"), exact=True).click()
    expect(page).to_have_url(f"{base}/admin/exports")
    form = page.locator("#export-form")
    form.get_by_label(zh("Goal summary export")).check()
    form.get_by_label("XLSX", exact=True).check()
    form.locator("#f-date_from").fill(QUARTER_START.isoformat())
    form.locator("#f-date_to").fill(QUARTER_END.isoformat())
    form.get_by_role("button", name=zh("Export")).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/jobs/\d+$"))
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuemax", "1")
    # The worker does it while the page watches; the page reloads itself once it is done.
    download_link = page.get_by_role("link", name=zh("Download the file"))
    expect(download_link).to_be_visible(timeout=90_000)
    expect(page.locator("[data-job=state]")).to_have_text(zh("Finished"))
    expect(bar).to_have_attribute("aria-valuenow", "1")
    with page.expect_download() as info:
        download_link.click()
    assert info.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    by_city = _rows(workbook[zh("By city")])
    assert by_city[0][:2] == [zh("City code"), zh("City")]
    assert ["3702", "青岛", 0, 1, 3] in by_city  # the company's city: its three trainees
    assert ["3706", "烟台", 0, 0, 0] in by_city  # completed before the quarter
    assert ["3701", "济南", 1, 0, 0] in by_city  # the university's city
    assert ["QLU", "齐鲁工业大学", "济南", 1, 3] in _rows(workbook[zh("By university")])
    [company] = _rows(workbook[zh("By company")])[1:]
    assert company[1] == "=1+1" and company[-1] == 3  # a name, never a formula
    cell = workbook[zh("By company")].cell(2, 2)
    assert cell.data_type == "s" and cell.quotePrefix

    # The last complete month's report: one page of PDF with the goals as they stood then.
    page.goto(f"{base}/admin/goals")
    report = page.locator("form#report")
    report.locator("#f-month").fill(f"{MONTH:%Y-%m}")
    with page.expect_download() as info:
        report.get_by_role("button", name=zh("Download the PDF")).click()
    assert info.value.suggested_filename.endswith(".pdf")
    pdf = pypdf.PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert f"{MONTH.year}年{MONTH.month}月" in text
    # The goal's name and definition, then its count at the month's end and the target saved.
    talents = rf"{zh('Digital talents cultivated')}\s+{zh(FIGURES['talents'].definition)}"
    assert re.search(rf"{talents}\s+4\s+6000\s", text), text

    # A staff account made from the accounts page; its holder logs in in another browser.
    page.goto(f"{base}/admin/accounts")
    page.get_by_role("link", name=zh("Add a staff account")).click()
    staff_form = page.locator("#staff-form")
    staff_form.locator("#f-email").fill(STAFF_EMAIL)
    staff_form.locator("#f-password").fill("first-password-1")
    staff_form.locator("#f-university_id").select_option(label="齐鲁工业大学")
    staff_form.get_by_role("button", name=zh("Create account")).click()
    expect(page.locator(".flash")).to_have_text(zh("Staff account created"))

    staff_context = browser.new_context(locale="zh-CN")
    staff_context.set_default_timeout(10_000)
    staff = staff_context.new_page()
    try:
        _log_in(staff, base, STAFF_EMAIL, "first-password-1")
        expect(staff).to_have_url(f"{base}/staff")
        expect(staff.get_by_role("heading", level=1)).to_be_visible()

        # Deactivated by the administrator, the staff member's open page is refused at its
        # next click: sent to the login page.
        page.goto(f"{base}/admin/accounts")
        page.get_by_role("link", name=STAFF_EMAIL).click()
        page.get_by_role("button", name=zh("Deactivate the account")).click()
        expect(page.locator(".flash")).to_have_text(
            zh(
                "%(email)s is deactivated: logged out everywhere, API tokens revoked",
                email=STAFF_EMAIL,
            )
        )
        expect(page.locator("dd.state")).to_have_text(zh("deactivated"))

        staff.get_by_role("link", name=zh("Exports")).click()
        expect(staff).to_have_url(f"{base}/login?next=%2Fstaff%2Fexports")
        _log_in(staff, base, STAFF_EMAIL, "first-password-1")
        expect(staff.locator("#f-email")).to_be_visible()  # no way back in
        expect(staff).to_have_url(re.compile(rf"{re.escape(base)}/login"))
    finally:
        staff_context.close()
