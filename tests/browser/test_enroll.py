"""A trainee enrolls from the public catalog in a real browser."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from app.enrollments.models import Enrollment
from app.i18n import translations
from app.trainees.models import Trainee
from tests.factories import make_company, make_course, make_university, new_id_number

NAME = "李䶮"  # 䶮 is in CJK Extension A: a real name that older systems cannot store


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _open_course(session):
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, title="服装数字化设计实训")
    company = make_company(session, name="山东如意毛纺服装集团")
    return course, company


def _fill_form(page, company, id_number: str) -> None:
    page.fill("#f-name", NAME)
    page.fill("#f-id_number", id_number)
    page.fill("#f-mobile", "138 0013 8000")
    # A new deployment lists no companies yet: the trainee types the employer's code and name.
    page.fill("#f-company_uscc", company.uscc)
    page.fill("#f-company_name", company.name)
    page.check("input[name=consent]")


def test_enroll_from_the_catalog(live_server, page, session):
    course, company = _open_course(session)
    page.goto(f"{live_server}/courses")
    page.get_by_role("link", name=course.title).click()
    expect(page.locator("h1")).to_have_text(course.title)

    _fill_form(page, company, new_id_number())
    page.get_by_role("button", name=zh("Submit enrollment")).click()

    number = page.locator("#enrollment-no")
    expect(number).to_have_text(re.compile(r"^BM\d{2}[0-9A-Z]{8}$"))
    enrollment = session.exec(select(Enrollment)).one()
    assert number.inner_text() == enrollment.enrollment_no
    assert enrollment.company_id == company.id
    assert session.get(Trainee, enrollment.trainee_id).name == NAME
    expect(page.locator(".done")).to_contain_text("李*")  # the name is shown masked


def test_wrong_check_character_is_shown_beside_the_field(live_server, page, session):
    course, company = _open_course(session)
    good = new_id_number()
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    page.goto(f"{live_server}/courses/{course.code}")

    _fill_form(page, company, wrong)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=zh("Submit enrollment")).click()

    assert answer.value.status == 422
    field = page.locator(".field", has=page.locator("#f-id_number"))
    message = zh("The ID number's last character does not match; check for a typo")
    expect(field.locator("#e-id_number")).to_have_text(message)
    expect(page.locator("#f-id_number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name")).to_have_value(NAME)
    expect(page.locator("#f-id_number")).to_have_value(wrong)
    assert session.exec(select(Enrollment)).first() is None


def test_switch_to_english(live_server, page, session):
    _open_course(session)
    page.goto(f"{live_server}/courses")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_have_text(zh("Courses open for enrollment"))

    page.get_by_role("link", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server}/courses")
    expect(page.locator("h1")).to_have_text("Courses open for enrollment")
    expect(page.get_by_role("link", name="中文")).to_be_visible()


def test_enrollment_form_fits_a_phone(live_server, phone, session, tmp_path):
    course, _ = _open_course(session)
    phone.goto(f"{live_server}/courses/{course.code}")
    phone.screenshot(path=tmp_path / "enroll-phone.png", full_page=True)
    _assert_fits_a_phone(phone)

    # With every error shown, the page still fits the screen.
    phone.fill("#f-id_number", "37010219900307123")
    phone.get_by_role("button", name=zh("Submit enrollment")).click()
    expect(phone.locator("#e-id_number")).to_be_visible()
    phone.screenshot(path=tmp_path / "enroll-phone-errors.png", full_page=True)
    _assert_fits_a_phone(phone)


def _assert_fits_a_phone(phone) -> None:
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    # The employer is found by typing (issue 10): its search box and button, then the submit.
    fields = ("#f-name", "#f-id_number", "#f-mobile", "#f-company_query", "#f-company_name")
    for selector in (*fields, "button[name=action]", "form.form > button.button"):
        box = phone.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        assert box["height"] >= 32, f"{selector} is too small to tap"
