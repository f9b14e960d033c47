"""The employer found by typing on a phone, in a real browser (app/static/employer.js)."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from app.enrollments.models import Enrollment
from app.i18n import translations
from tests.browser.conftest import browser, live_server, phone  # noqa: F401 (fixtures)
from tests.factories import make_course, make_listed_company, make_university, new_id_number


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _fill_trainee(page) -> None:
    page.fill("#f-name", "李䶮")
    page.fill("#f-id_number", new_id_number())
    page.fill("#f-mobile", "13800138000")
    page.check("input[name=consent]")


def test_three_characters_typed_list_the_employer_with_its_city(
    live_server,  # noqa: F811
    phone,  # noqa: F811
    session,
    new_session,
):
    weifang = make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    make_listed_company(session, name="青岛恒联纺织有限公司", city_code="3702")
    course = make_course(session, make_university(session))
    phone.goto(f"{live_server}/courses/{course.code}")
    _fill_trainee(phone)

    phone.locator("#f-company_query").press_sequentially("恒联纺")

    choice = phone.locator("#company-matches label", has_text="潍坊恒联纺织有限公司")
    expect(choice).to_contain_text("潍坊")
    expect(phone.locator("#company-matches label", has_text="青岛恒联")).to_contain_text("青岛")
    choice.locator("input").check()
    # Enter in the mobile field sends the enrollment, not the search.
    phone.locator("#f-mobile").press("Enter")

    expect(phone.locator("#enrollment-no")).to_have_text(re.compile(r"^BM"))
    with new_session() as s:
        enrollment = s.exec(select(Enrollment).where(Enrollment.course_id == course.id)).one()
        assert enrollment.company_id == weifang.id


def test_a_name_not_listed_is_entered_alone(
    live_server,  # noqa: F811
    phone,  # noqa: F811
    session,
    new_session,
):
    course = make_course(session, make_university(session))
    phone.goto(f"{live_server}/courses/{course.code}")
    _fill_trainee(phone)
    phone.locator("#f-company_query").press_sequentially("某某织")
    expect(phone.locator("#company-matches")).to_contain_text(
        zh("No listed company has this name: enter it below.")
    )
    phone.fill("#f-company_name", "临沂某某织造厂")
    phone.get_by_role("button", name=zh("Submit enrollment")).click()

    expect(phone.locator("#enrollment-no")).to_have_text(re.compile(r"^BM"))
    with new_session() as s:
        assert s.exec(select(Enrollment).where(Enrollment.course_id == course.id)).one()
