"""Staff log in and out in a real browser: the CSRF cookie, the session-bound tokens and the
Origin check must all let a real browser's own forms through."""

from playwright.sync_api import expect

from app.i18n import translations
from tests.factories import PASSWORD, make_university, make_user


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def test_log_in_then_out(live_server, page, session):
    user = make_user(session, university=make_university(session, name="齐鲁工业大学"))
    page.goto(f"{live_server}/login")
    page.fill("#f-email", user.email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()

    expect(page.locator(".flash")).to_have_text(zh("You are logged in"))
    expect(page).to_have_url(f"{live_server}/staff")

    page.get_by_role("button", name=zh("Log out")).click()
    expect(page.locator(".flash")).to_have_text(zh("You are logged out"))
    expect(page.get_by_role("link", name=zh("Staff login"))).to_be_visible()
