"""The auditor in a real browser: logs in with the second factor, lands on the audit log, finds
by its filter a staff member's refused attempt at the administration, and is refused the
administration itself; the administrator's menu has no audit log."""

from playwright.sync_api import expect

from app.i18n import translations
from tests.factories import PASSWORD, TOTP_SECRETS, make_university, make_user, totp_code


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()
    if email in TOTP_SECRETS:
        page.wait_for_url("**/login/code")
        page.fill("#f-code", totp_code(email))
        page.get_by_role("button", name=zh("Log in")).click()


def test_the_auditor_reads_the_log_and_nothing_else(live_server, browser, page, session):
    university = make_university(session, name="齐鲁工业大学")
    staff = make_user(session, university=university)
    auditor = make_user(session, role="auditor")

    clerk = browser.new_context(locale="zh-CN").new_page()
    _log_in(clerk, live_server, staff.email)
    clerk.goto(f"{live_server}/admin")  # a clerk trying the administration
    expect(clerk.locator("main")).to_contain_text(zh("Only administrators can do this"))
    clerk.context.close()

    _log_in(page, live_server, auditor.email)
    expect(page).to_have_url(f"{live_server}/audit")
    expect(page.get_by_role("link", name=zh("Audit log"))).to_be_visible()
    expect(page.get_by_role("link", name=zh("Administration"))).to_have_count(0)

    page.select_option("#f-user_id", label=staff.email)
    page.fill("#f-action", "security")
    page.get_by_role("button", name=zh("Filter")).click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("security.refused")
    expect(rows.first).to_contain_text("admin:home")
    expect(rows.first).to_contain_text(staff.email)

    page.goto(f"{live_server}/admin")
    expect(page.locator("main")).to_contain_text(zh("This page is not part of your duties"))
