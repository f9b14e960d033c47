"""A trainee signs in to their records with a one-time code and withdraws an enrollment."""

import logging
import re
from datetime import timedelta

from playwright.sync_api import expect

from app import clock
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.i18n import translations
from tests.factories import make_course, make_enrollment, make_university


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def test_sign_in_see_the_records_and_withdraw(live_server, page, session, caplog):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    today = clock.today()
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(
        session,
        university,
        title="服装数字化设计实训",
        starts_on=today + timedelta(days=7),
        ends_on=today + timedelta(days=30),
    )
    enrollment, id_number = make_enrollment(session, course, mobile="13912345678")

    page.goto(live_server)
    page.get_by_role("link", name=zh("My records")).click()
    page.fill("#f-id_number", id_number)
    page.fill("#f-mobile", "139 1234 5678")
    page.get_by_role("button", name=zh("Send me a code")).click()
    expect(page.locator("p.flash")).to_be_visible()
    code = re.findall(r"one-time code (\d{6}) for", caplog.text)[-1]
    page.fill("#f-code", code)
    page.get_by_role("button", name=zh("Sign in"), exact=True).click()

    row = page.locator(f"tr[data-enrollment={enrollment.enrollment_no}]")
    expect(row).to_contain_text(course.title)
    expect(page.locator(".id-masked")).to_have_text(id_number[:3] + "*" * 11 + id_number[-4:])
    row.get_by_role("link", name=zh("Withdraw")).click()
    page.get_by_role("button", name=zh("Withdraw this enrollment")).click()

    expect(page.locator("p.flash")).to_contain_text(enrollment.enrollment_no)
    expect(row.locator(".status")).to_have_text(zh("Withdrawn"))
    session.expire_all()
    assert session.get(Enrollment, enrollment.id).status == "withdrawn"
    assert session.get(Course, course.id).seats_taken == 0
