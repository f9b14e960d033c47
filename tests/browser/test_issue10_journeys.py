"""Issue 10 done, as its users click it in Debian's Chromium: a trainee on a 390-pixel phone
searches "数字化" in 潍坊, reads the course, finds the employer by typing three characters (or
enters one not listed) and enrolls, seeing what happens next; a clerk edits the course and is
warned before past dates hide it, and refused a capacity below the seats taken; an
administrator merges an unconfirmed company into the real one and the goal figures follow.

Each journey checks what the user sees and what the database holds; the goal counters are
read through app.goals (the web_app fixture's teardown also compares them with a recount)."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select

from app import clock
from app.companies.models import Company
from app.completions.models import Completion
from app.courses.models import Course
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment, EnrollmentCreate
from app.goals import service as goals
from app.i18n import translations
from app.universities.models import University
from tests.factories import (
    PASSWORD,
    TOTP_SECRETS,
    make_company,
    make_completion,
    make_course,
    make_enrollment,
    make_listed_company,
    make_university,
    make_user,
    new_id_number,
    totp_code,
)

TODAY = clock.today()
STARTS, ENDS = TODAY + timedelta(days=12), TODAY + timedelta(days=40)
TITLE = "纺织企业数字化转型"
VENUE = "潍坊学院 行政楼 301"
CONTACT = ("继续教育学院", "0536-8785000")
DESCRIPTION = "面向纺织企业一线技术人员的数字化转型实训。\n\n结业颁发证书。"


def zh(message: str, **params) -> str:
    text = translations("zh").gettext(message)
    return text % params if params else text


def _weifang_course(session) -> Course:
    """The course the trainee looks for, beside two the search must leave out: the same
    words in Jinan, and another course in Weifang."""
    weifang = make_university(session, code="WFU", name="潍坊学院", city_code="3707")
    jinan = make_university(session, code="QLU", name="齐鲁工业大学", city_code="3701")
    make_course(session, jinan, code="JN-DX", title="服装数字化设计", starts_on=STARTS)
    make_course(session, weifang, code="WF-ZZ", title="针织工艺基础", starts_on=STARTS)
    return make_course(
        session,
        weifang,
        code="WF-DX",
        title=TITLE,
        description=DESCRIPTION,
        mode="mixed",
        venue=VENUE,
        contact_name=CONTACT[0],
        contact_phone=CONTACT[1],
        starts_on=STARTS,
        ends_on=ENDS,
    )


def _figures(new_session, settings) -> dict[str, int]:
    with new_session() as s:
        return {key: goal.count for key, goal in goals.count_all(s, settings).items()}


def _find_and_read(phone, base: str) -> None:
    """From the catalog to the course's page, reading it as a trainee does."""
    phone.goto(f"{base}/courses")
    phone.fill("#f-q", "数字化")
    phone.locator("details.more-filters > summary").click()
    phone.select_option("#f-city", "3707")
    phone.get_by_role("button", name=zh("Apply the filters")).click()
    cards = phone.locator("li.course")
    expect(cards).to_have_count(1)
    cards.first.get_by_role("link", name=TITLE).click()

    expect(phone.locator("h1")).to_have_text(TITLE)
    expect(phone.locator(".description p")).to_have_text(
        ["面向纺织企业一线技术人员的数字化转型实训。", "结业颁发证书。"]
    )
    expect(phone.locator("dl.facts")).to_contain_text(f"潍坊 · {VENUE}")
    expect(phone.locator("dd.contact")).to_have_text(f"{CONTACT[0]} · {CONTACT[1]}")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the course page scrolls sideways by {overflow}px"


def _fill_trainee(phone) -> str:
    id_number = new_id_number()
    phone.fill("#f-name", "李䶮")
    phone.fill("#f-id_number", id_number)
    phone.fill("#f-mobile", "138 0013 8000")
    phone.check("input[name=consent]")
    return id_number


def _sees_what_happens_next(phone, new_session, course: Course) -> Enrollment:
    number = phone.locator("#enrollment-no")
    expect(number).to_have_text(re.compile(r"^BM\d{2}[0-9A-Z]{8}$"))
    expect(phone.locator("#starts-on")).to_have_text(STARTS.isoformat())
    expect(phone.locator("#venue")).to_have_text(VENUE)
    expect(phone.locator("#contact")).to_contain_text(CONTACT[0])
    expect(phone.locator("#contact")).to_contain_text(CONTACT[1])
    with new_session() as s:
        enrollment = s.exec(select(Enrollment).where(Enrollment.course_id == course.id)).one()
    assert number.inner_text() == enrollment.enrollment_no
    return enrollment


def test_a_trainee_on_a_phone_finds_the_course_and_the_employer_and_enrolls(
    live_server,
    phone,
    session,
    new_session,
):
    course = _weifang_course(session)
    employer = make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    make_listed_company(session, name="青岛恒联纺织有限公司", city_code="3702")
    _find_and_read(phone, live_server)
    _fill_trainee(phone)

    phone.locator("#f-company_query").press_sequentially("恒联纺")
    choice = phone.locator("#company-matches label", has_text="潍坊恒联纺织有限公司")
    expect(choice).to_contain_text("潍坊")
    expect(phone.locator("#company-matches label", has_text="青岛恒联")).to_contain_text("青岛")
    choice.locator("input").check()
    phone.get_by_role("button", name=zh("Submit enrollment")).click()

    enrollment = _sees_what_happens_next(phone, new_session, course)
    assert enrollment.company_id == employer.id
    with new_session() as s:
        assert s.get(Course, course.id).seats_taken == 1


def test_an_employer_not_listed_is_entered_by_name_and_counts_for_nothing(
    live_server,
    phone,
    session,
    new_session,
    settings,
):
    course = _weifang_course(session)
    make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    before = _figures(new_session, settings)
    _find_and_read(phone, live_server)
    _fill_trainee(phone)

    phone.locator("#f-company_query").press_sequentially("某某织")
    expect(phone.locator("#company-matches")).to_contain_text(
        zh("No listed company has this name: enter it below.")
    )
    phone.fill("#f-company_name", "潍坊某某织造厂")
    phone.get_by_role("button", name=zh("Submit enrollment")).click()

    enrollment = _sees_what_happens_next(phone, new_session, course)
    with new_session() as s:
        company = s.get(Company, enrollment.company_id)
    assert (company.name, company.uscc) == ("潍坊某某织造厂", None)  # unconfirmed
    after = _figures(new_session, settings)
    assert after["enrolled"] == before["enrolled"] + 1
    assert (after["companies"], after["companies_joined"]) == (1, 1)
    assert (before["companies"], before["companies_joined"]) == (1, 1)


def _log_in(tab, base: str, email: str) -> None:
    tab.goto(f"{base}/login")
    tab.fill("#f-email", email)
    tab.fill("#f-password", PASSWORD)
    tab.get_by_role("button", name=zh("Log in")).click()
    if email in TOTP_SECRETS:  # an administrator's second step: the authenticator's code
        tab.wait_for_url("**/login/code")
        tab.fill("#f-code", totp_code(email))
        tab.get_by_role("button", name=zh("Log in")).click()


def _course_of(new_session, course: Course) -> Course:
    with new_session() as s:
        return s.get(Course, course.id)


def test_a_clerk_edits_a_course_warned_before_past_dates_hide_it(
    live_server,
    page,
    session,
    new_session,
):
    course = _weifang_course(session)
    for name in ("张伟", "王芳", "刘洋"):
        make_enrollment(session, course, name=name)
    clerk = make_user(session, university=session.get(University, course.university_id))
    _log_in(page, live_server, clerk.email)
    page.get_by_role("link", name="WF-DX").click()
    expect(page.locator("#course-state .state")).to_have_text(zh("Open for enrollment"))
    page.get_by_role("link", name=zh("Edit course")).click()

    # Below the seats taken: the error beside the field, nothing saved.
    page.fill("#f-capacity", "2")
    page.get_by_role("button", name=zh("Save")).click()
    expect(page.locator("#e-capacity")).to_have_text(
        zh("%(taken)s trainees are enrolled: the capacity cannot be lower", taken=3)
    )
    expect(page.locator("#f-capacity")).to_have_attribute("aria-invalid", "true")
    assert _course_of(new_session, course).capacity == 50

    # The enrollment window moved into the past: warned, saved only once confirmed.
    yesterday = TODAY - timedelta(days=1)
    page.fill("#f-capacity", "40")
    page.fill("#f-enroll_closes_on", yesterday.isoformat())
    page.get_by_role("button", name=zh("Save")).click()
    warning = page.locator("#hidden-warning")
    expect(warning).to_contain_text(zh("This course will not appear in the catalog"))
    expect(page.locator("#e-confirm_hidden")).to_contain_text(yesterday.isoformat())
    unsaved = _course_of(new_session, course)
    assert (unsaved.enroll_closes_on, unsaved.capacity) == (None, 50)

    warning.get_by_role("checkbox").check()
    page.get_by_role("button", name=zh("Save")).click()
    expect(page.locator(".flash")).to_have_text(zh("Course saved"))
    expect(page.locator("#course-state .state")).to_have_text(zh("Enrollment closed"))
    saved = _course_of(new_session, course)
    assert (saved.enroll_closes_on, saved.capacity) == (yesterday, 40)

    page.goto(f"{live_server}/courses")
    expect(page.locator("li.course h3", has_text="针织工艺基础")).to_have_count(1)
    expect(page.locator("li.course h3", has_text=TITLE)).to_have_count(0)


def _named_employer(session, course: Course, name: str) -> Enrollment:
    """A trainee who typed the employer's name alone, as the public form sends it."""
    data = EnrollmentCreate(
        course_code=course.code,
        name="赵敏",
        id_number=new_id_number(),
        mobile="13900139000",
        company_name=name,
        consent=True,
    )
    enrollment = enrollments.enroll(session, data, channel="web", today=TODAY)
    session.commit()
    return enrollment


def test_an_administrator_merges_an_unconfirmed_company_and_the_figures_follow(
    live_server,
    page,
    session,
    new_session,
    settings,
):
    course = _weifang_course(session)
    real = make_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    make_enrollment(session, course, company=real)  # joined, nobody trained yet
    typed = _named_employer(session, course, "恒联纺织")
    make_completion(session, typed, course, completed_on=TODAY)
    session.commit()
    unconfirmed_id = typed.company_id
    before = _figures(new_session, settings)
    assert (before["companies"], before["companies_joined"], before["talents"]) == (0, 1, 1)

    admin = make_user(session, role="admin")
    _log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/goals")
    expect(page.locator("#goal-companies .goal-count")).to_have_text(re.compile(r"^0\b"))
    page.goto(f"{live_server}/admin")
    page.get_by_role("link", name=zh("Unconfirmed companies")).click()
    row = page.locator(f"#u-{unconfirmed_id}")
    expect(row.locator("td")).to_have_text(["恒联纺织", "1", "1", zh("Match")])
    row.get_by_role("link", name=zh("Match")).click()

    page.fill("#f-q", "恒联")
    page.get_by_role("button", name=zh("Search")).click()
    page.locator("ul.choices label", has_text="潍坊恒联纺织有限公司").locator("input").check()
    page.get_by_role("button", name=zh("Match"), exact=True).click()
    expect(page.locator(".flash")).to_have_text(
        zh("Company matched: its enrollments and completions moved with it")
    )
    expect(page.locator("main")).to_contain_text(zh("No unconfirmed companies."))

    with new_session() as s:
        assert s.get(Company, unconfirmed_id) is None
        assert s.get(Enrollment, typed.id).company_id == real.id
        completion = s.exec(select(Completion).where(Completion.enrollment_id == typed.id)).one()
        assert completion.company_id == real.id
    after = _figures(new_session, settings)
    assert (after["companies"], after["companies_joined"], after["talents"]) == (1, 1, 1)
    page.goto(f"{live_server}/admin/goals")
    expect(page.locator("#goal-companies .goal-count")).to_have_text(re.compile(r"^1\b"))
    expect(page.locator("dd[data-figure=companies_joined]")).to_have_text("1")


def test_a_clerk_closes_and_reopens_enrollment_from_the_course_list(
    live_server,
    page,
    session,
    new_session,
):
    course = _weifang_course(session)
    clerk = make_user(session, university=session.get(University, course.university_id))
    _log_in(page, live_server, clerk.email)
    row = page.locator("tr", has=page.get_by_role("link", name="WF-DX", exact=True))
    expect(row.locator("td.state")).to_have_text(zh("Open for enrollment"))

    row.get_by_role("button", name=zh("Close enrollment")).click()
    expect(page.locator(".flash")).to_have_text(zh("Enrollment closed"))
    expect(row.locator("td.state")).to_have_text(zh("Enrollment closed"))
    assert _course_of(new_session, course).is_open is False
    page.goto(f"{live_server}/courses/{course.code}")
    expect(page.locator("p.notice")).to_have_text(zh("Enrollment for this course is closed"))

    page.goto(f"{live_server}/staff")
    row.get_by_role("button", name=zh("Reopen enrollment")).click()
    expect(page.locator(".flash")).to_have_text(zh("Enrollment reopened"))
    expect(row.locator("td.state")).to_have_text(zh("Open for enrollment"))
    assert _course_of(new_session, course).is_open is True
