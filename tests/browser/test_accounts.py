"""An administrator makes a staff account and resets its password in a real browser; the staff
member, in another browser, logs in with the temporary password and must choose a new one."""

from playwright.sync_api import expect

from app.i18n import translations
from tests.factories import PASSWORD, TOTP_SECRETS, make_university, make_user, totp_code


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.get_by_role("button", name=zh("Log in")).click()
    if email in TOTP_SECRETS:  # an administrator's second step: the authenticator's code
        page.wait_for_url("**/login/code")
        page.fill("#f-code", totp_code(email))
        page.get_by_role("button", name=zh("Log in")).click()


def test_admin_creates_staff_resets_the_password_and_staff_must_change_it(
    live_server, page, browser, session
):
    make_university(session, name="齐鲁工业大学")
    admin = make_user(session, role="admin")
    _log_in(page, live_server, admin.email, PASSWORD)
    expect(page).to_have_url(f"{live_server}/admin")
    staff_form = page.locator("#staff-form")
    staff_form.locator("#f-email").fill("wang.fang@qlu.edu.cn")
    staff_form.locator("#f-password").fill("first-password-1")
    staff_form.locator("#f-university_id").select_option(label="齐鲁工业大学")
    staff_form.get_by_role("button", name=zh("Create account")).click()
    expect(page.locator(".flash")).to_have_text(zh("Staff account created"))

    page.get_by_role("link", name="wang.fang@qlu.edu.cn").click()
    page.fill("#f-password", "temporary-pass-2")
    page.get_by_role("button", name=zh("Reset the password")).click()
    expect(page.locator(".flash")).to_have_text(
        zh("Password reset: a new one must be chosen at the next login")
    )
    expect(page.locator("dd.state")).to_have_text(zh("must choose a new password"))

    staff_context = browser.new_context(locale="zh-CN")
    staff = staff_context.new_page()
    try:
        _log_in(staff, live_server, "wang.fang@qlu.edu.cn", "temporary-pass-2")
        expect(staff).to_have_url(f"{live_server}/account")
        expect(staff.locator("p.notice")).to_be_visible()
        staff.goto(f"{live_server}/staff")  # nothing else until the password is changed
        expect(staff).to_have_url(f"{live_server}/account")

        staff.fill("#f-current_password", "temporary-pass-2")
        staff.fill("#f-new_password", "my-own-password-3")
        staff.fill("#f-new_password_again", "my-own-password-4")
        staff.get_by_role("button", name=zh("Change password")).click()
        expect(staff.locator("#e-new_password_again")).to_have_text(
            zh("The two new passwords are not the same")
        )
        staff.fill("#f-current_password", "temporary-pass-2")
        staff.fill("#f-new_password", "my-own-password-3")
        staff.fill("#f-new_password_again", "my-own-password-3")
        staff.get_by_role("button", name=zh("Change password")).click()
        expect(staff).to_have_url(f"{live_server}/staff")
        expect(staff.locator(".flash")).to_have_text(
            zh("Your password is changed; your other logins have ended")
        )
    finally:
        staff_context.close()
