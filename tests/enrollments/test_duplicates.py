"""Enrolling again: the holder, who knows their own mobile, is told which enrollment exists;
a stranger who has the ID number (and even the name) learns nothing new, on the page and
through the API alike."""

import re

from sqlmodel import select

from app import clock
from app.enrollments.models import Enrollment
from app.i18n import translations
from tests.factories import (
    csrf_of,
    make_company,
    make_course,
    make_enrollment,
    make_university,
    new_id_number,
)
from tests.html import page

NEUTRAL = translations("zh").gettext("This ID number is already enrolled in this course")
MOBILE, OTHER_MOBILE = "13800138000", "13912345678"


def _enrolled(session, **course):
    course = make_course(
        session,
        make_university(session, name="齐鲁工业大学"),
        contact_name="王老师",
        contact_phone="0531-89631234",
        **course,
    )
    company = make_company(session)
    id_number = new_id_number()
    enrollment, _ = make_enrollment(
        session, course, name="李䶮", id_number=id_number, company=company, mobile=MOBILE
    )
    return course, company, id_number, enrollment


def _api(client, course, company, id_number, *, name="李䶮", mobile=MOBILE):
    return client.post(
        "/api/v1/enrollments",
        json={
            "course_code": course.code,
            "name": name,
            "id_number": id_number,
            "mobile": mobile,
            "company_uscc": company.uscc,
            "consent": True,
        },
    )


def _page(client, course, company, id_number, *, name="李䶮", mobile=MOBILE):
    return client.post(
        f"/courses/{course.code}/enroll",
        data={
            "csrf_token": csrf_of(client),
            "name": name,
            "id_number": id_number,
            "mobile": mobile,
            "email": "",
            "company_known": company.uscc,
            "company_uscc": "",
            "company_name": "",
            "consent": "yes",
        },
    )


def _notice(response) -> str:
    return page(response).select_one(".notice").get_text(" ", strip=True)


def _china_date(enrollment) -> str:
    return enrollment.created_at.astimezone(clock.CHINA).date().isoformat()


def _masked(number: str) -> str:
    return number[:4] + "****" + number[-4:]


def test_the_holder_is_told_which_enrollment_exists_on_the_page(client, session):
    course, company, id_number, enrollment = _enrolled(session)
    again = _page(client, course, company, id_number, mobile="138 0013 8000")
    assert again.status_code == 409
    notice = _notice(again)
    number = enrollment.enrollment_no
    assert re.fullmatch(r"BM\d\d\*{4}[0-9A-Z]{4}", _masked(number))
    assert _masked(number) in notice and number not in again.text
    assert _china_date(enrollment) in notice  # the day it was made
    assert "王老师" in notice and "0531-89631234" in notice  # whom to ask for the full number
    assert len(session.exec(select(Enrollment)).all()) == 1


def test_the_holder_is_told_the_same_through_the_api(client, session):
    course, company, id_number, enrollment = _enrolled(session)
    again = _api(client, course, company, id_number)
    assert again.status_code == 409
    body = again.json()
    assert body["enrollment"]["enrollment_no_masked"] == _masked(enrollment.enrollment_no)
    assert body["enrollment"]["enrolled_on"] in body["detail"]
    assert _masked(enrollment.enrollment_no) in body["detail"]
    assert enrollment.enrollment_no not in again.text
    shown = _page(client, course, company, id_number)
    assert _notice(shown) == body["detail"]  # the page and the API say the same


def test_a_stranger_with_the_id_number_and_name_but_another_mobile_learns_nothing(client, session):
    course, company, id_number, enrollment = _enrolled(session)
    number = enrollment.enrollment_no
    by_api = _api(client, course, company, id_number, mobile=OTHER_MOBILE)
    assert by_api.status_code == 409 and by_api.json() == {"detail": NEUTRAL}
    by_page = _page(client, course, company, id_number, mobile=OTHER_MOBILE)
    assert by_page.status_code == 409 and _notice(by_page) == NEUTRAL
    for answer in (by_api, by_page):
        assert number[-4:] not in answer.text and _masked(number) not in answer.text


def test_a_stranger_with_only_the_id_number_gets_todays_answers(client, session):
    """A wrong name is refused beside the name, as before, whatever the mobile: the mobile is
    never compared unless the name is right, so it cannot be tried on its own."""
    course, company, id_number, enrollment = _enrolled(session)
    for mobile in (MOBILE, OTHER_MOBILE):
        by_api = _api(client, course, company, id_number, name="王五", mobile=mobile)
        assert by_api.status_code == 422
        assert [e["field"] for e in by_api.json()["errors"]] == ["name"]
        assert enrollment.enrollment_no[-4:] not in by_api.text
        by_page = _page(client, course, company, id_number, name="王五", mobile=mobile)
        assert by_page.status_code == 422 and 'id="e-name"' in by_page.text
        assert not page(by_page).select(".notice")
        assert _masked(enrollment.enrollment_no) not in by_page.text


def test_guessing_mobiles_meets_the_attempt_limit(client, session):
    """Every attempt counts against the ID number from an address: a stranger who has the name
    too cannot try mobile after mobile; over the limit the holder's own mobile is refused the
    same way."""
    course, company, id_number, _ = _enrolled(session)
    answers = [
        _api(client, course, company, id_number, mobile=f"1391234{n:04d}").status_code
        for n in range(10)
    ]
    assert answers == [409] * 10
    assert _api(client, course, company, id_number).status_code == 429
    assert _page(client, course, company, id_number).status_code == 429


def test_another_course_of_the_same_holder_is_no_duplicate(client, session):
    course, company, id_number, _ = _enrolled(session)
    other = make_course(session, make_university(session))
    assert _api(client, other, company, id_number).status_code == 201


def test_a_signed_in_staff_member_enrolling_again_gets_the_refusal_not_a_server_error(
    staff_a, session
):
    """The refusal rolls the writer section back, which expires every row the request loaded,
    the signed-in user whose name the error page's header shows among them."""
    course, company, id_number, _ = _enrolled(session)
    again = _page(staff_a.client, course, company, id_number)
    assert again.status_code == 409
    # The header still knows who is signed in: their account and logout, not "Staff login".
    assert page(again).select_one('nav a[href="/account"]') is not None
