"""One submit names every field that is wrong; staff accounts and enrollments agree on emails."""

import random

import pytest
from sqlmodel import select

from app.auth.models import User
from app.companies.validators import fake_uscc
from app.enrollments.models import Enrollment
from app.i18n import translations
from tests.factories import make_company, make_course, make_university, new_id_number
from tests.html import field_errors

BAD = {"mobile": "12345", "company_uscc": "91370100MA3C5H2Q1Y", "email": "li@qlu"}


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _body(course, **overrides) -> dict:
    return {
        "course_code": course.code,
        "name": "李䶮",
        "id_number": new_id_number(),
        "mobile": "13800138000",
        "company_uscc": fake_uscc(random.Random(7)),
        "company_name": "青岛某服饰有限公司",
        "consent": True,
        **overrides,
    }


def test_the_page_shows_every_field_error_of_one_submit(anonymous, session):
    course = make_course(session, make_university(session))
    response = anonymous.post(
        f"/courses/{course.code}/enroll",
        data={
            **_body(course, **BAD),
            "csrf_token": anonymous.csrf(f"/courses/{course.code}"),
            "company_known": "",
            "consent": "yes",
        },
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"mobile", "company_uscc", "email"}
    assert errors["email"] == zh("Enter a valid email address")
    assert errors["company_uscc"] == zh(
        "The last character does not match the others; check for a typo"
    )
    assert session.exec(select(Enrollment)).first() is None


def test_the_api_answers_every_field_error_of_one_call(anonymous, session):
    course = make_course(session, make_university(session))
    response = anonymous.post("/api/v1/enrollments", json=_body(course, **BAD))
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert sorted(fields) == ["company_uscc", "email", "mobile"]
    assert session.exec(select(Enrollment)).first() is None


def test_a_too_short_company_name_is_a_field_error_beside_the_others(anonymous, session):
    course = make_course(session, make_university(session))
    response = anonymous.post(
        "/api/v1/enrollments", json=_body(course, company_name="青", mobile="12345")
    )
    assert sorted(e["field"] for e in response.json()["errors"]) == ["company_name", "mobile"]


def test_an_unknown_company_without_a_name_is_still_asked_for_its_name(anonymous, session):
    course = make_course(session, make_university(session))
    response = anonymous.post("/api/v1/enrollments", json=_body(course, company_name=""))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "company_name", "message": zh("This company is new to us: enter its full name")}
    ]


def test_an_empty_email_is_no_email(anonymous, session):
    course = make_course(session, make_university(session))
    company = make_company(session)
    response = anonymous.post(
        "/api/v1/enrollments",
        json=_body(course, company_uscc=company.uscc, company_name="", email=""),
    )
    assert response.status_code == 201
    assert session.exec(select(Enrollment)).one().email_encrypted is None


VALID = [
    "li.lei@qlu.edu.cn",
    "Teacher@SDUT.edu.cn",
    "wang+course@163.com",
    "张三@例子.中国",
    " zhao@sdu.edu.cn ",
]
INVALID = [
    "not-an-email",
    "li@qlu",
    "li lei@qlu.edu.cn",
    "li@@qlu.edu.cn",
    "li@qlu..edu.cn",
    "li@-qlu.edu.cn",
    "李雷 <li@qlu.edu.cn>",
    ".li@qlu.edu.cn",
    "li@192.168.0.1",
]


def _staff_answer(admin, university, email: str):
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf("/admin"),
            "email": email,
            "password": "a-long-password",
            "university_id": str(university.id),
        },
        follow_redirects=False,
    )
    return response.status_code, "email" in field_errors(response)


def _enrollment_answer(anonymous, course, email: str):
    response = anonymous.post("/api/v1/enrollments", json=_body(course, email=email))
    return response.status_code, "email" in {e["field"] for e in response.json().get("errors", [])}


@pytest.mark.parametrize("email", VALID)
def test_staff_accounts_and_enrollments_accept_the_same_emails(admin, anonymous, session, email):
    university = make_university(session)
    course = make_course(session, university)
    assert _staff_answer(admin, university, email) == (303, False)
    assert _enrollment_answer(anonymous, course, email) == (201, False)
    stored = session.exec(select(User).where(User.university_id == university.id)).one()
    assert stored.email == email.strip().lower()


@pytest.mark.parametrize("email", INVALID)
def test_staff_accounts_and_enrollments_refuse_the_same_emails(admin, anonymous, session, email):
    university = make_university(session)
    course = make_course(session, university)
    assert _staff_answer(admin, university, email) == (422, True)
    assert _enrollment_answer(anonymous, course, email) == (422, True)
