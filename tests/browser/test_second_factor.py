"""An administrator without a second factor logs in, is held on the enrolment page, scans (reads)
the key, confirms it with a first code, keeps the recovery codes, and later logs in in two steps."""

import time

import pyotp
from playwright.sync_api import expect

from app.auth import service as auth
from app.i18n import translations
from tests.factories import PASSWORD


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _password_step(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()


def test_an_administrator_enrols_a_second_factor_then_logs_in_with_a_code(
    live_server, page, session
):
    admin = auth.create_user(
        session, email="li.na@dandelion.local", password=PASSWORD, role="admin", actor="test"
    )
    session.commit()
    _password_step(page, live_server, admin.email)
    expect(page).to_have_url(f"{live_server}/account/second-factor")
    expect(page.locator("p.notice")).to_have_text(
        zh("Your account must use a second factor. Set it up to go on.")
    )
    page.goto(f"{live_server}/admin")  # nothing else until the second factor is set up
    expect(page).to_have_url(f"{live_server}/account/second-factor")

    expect(page.locator("div.qr svg")).to_be_visible()  # inline: no image, no script
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.fill("#f-code", "000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name=zh("Turn on the second factor")).click()
    expect(page.locator("#e-code")).to_be_visible()  # a wrong first code: said beside it

    page.fill("#f-code", totp.now())
    page.get_by_role("button", name=zh("Turn on the second factor")).click()
    codes = page.locator("ol.recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name=zh("I have kept them")).click()
    expect(page).to_have_url(f"{live_server}/account")
    page.goto(f"{live_server}/admin")
    expect(page).to_have_url(f"{live_server}/admin")

    page.get_by_role("button", name=zh("Log out")).click()
    _password_step(page, live_server, admin.email)
    expect(page).to_have_url(f"{live_server}/login/code")
    page.goto(f"{live_server}/admin")  # the password alone opens nothing
    expect(page).to_have_url(f"{live_server}/login?next=%2Fadmin")
    page.goto(f"{live_server}/login/code")
    step = int(time.time()) // totp.interval + 1
    page.fill("#f-code", totp.at(step * totp.interval))  # the next step's: the first is spent
    page.get_by_role("button", name=zh("Log in")).click()
    expect(page).to_have_url(f"{live_server}/admin")
