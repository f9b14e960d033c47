"""A trainee who cannot find the employer enters its name alone (issue 10): an unconfirmed
company, one per employer however it is typed, that counts toward no goal."""

import random
import threading

import pytest
from sqlmodel import func, select

from app.companies import service as companies
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.enrollments.models import Enrollment
from app.goals import tally
from tests.conftest import POSTGRES_URL
from tests.factories import make_company, make_course, make_university, new_id_number


def _body(course, **overrides) -> dict:
    return {
        "course_code": course.code,
        "name": "李䶮",
        "id_number": new_id_number(),
        "mobile": "13800138000",
        "consent": True,
        **overrides,
    }


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def _companies(new_session) -> list[Company]:
    with new_session() as s:
        return list(s.exec(select(Company).order_by(Company.id)))


def test_a_name_alone_makes_one_unconfirmed_company_that_counts_for_nothing(
    anonymous, session, new_session
):
    course = make_course(session, make_university(session))
    response = anonymous.post(
        "/api/v1/enrollments", json=_body(course, company_name="潍坊市 某某纺织 有限公司")
    )
    assert response.status_code == 201, response.text

    [company] = _companies(new_session)
    assert company.uscc is None and not company.confirmed
    assert company.name == "潍坊市 某某纺织 有限公司"
    with new_session() as s:
        assert s.exec(select(Enrollment.company_id)).one() == company.id
        assert tally.total(s, "companies_joined") == 0
        assert tally.total(s, "enrolled") == 1


def test_the_same_name_typed_again_reuses_the_unconfirmed_company(anonymous, session, new_session):
    course = make_course(session, make_university(session))
    typings = [
        "潍坊市某某纺织有限公司",
        "  潍坊市某某纺织有限公司 ",
        "潍坊市某某纺织有限公司\u3000",
    ]
    for name in typings:
        response = anonymous.post("/api/v1/enrollments", json=_body(course, company_name=name))
        assert response.status_code == 201, response.text
    # Full-width Latin letters and runs of spaces are the same name too.
    for name in ["ＡＢＣ  Textile", "abc textile"]:
        response = anonymous.post("/api/v1/enrollments", json=_body(course, company_name=name))
        assert response.status_code == 201, response.text

    names = [c.name for c in _companies(new_session)]
    assert names == ["潍坊市某某纺织有限公司", "ABC Textile"]
    with new_session() as s:
        assert s.exec(select(func.count()).select_from(Enrollment)).one() == 5


def test_a_uscc_and_a_name_still_register_a_confirmed_company(anonymous, session, new_session):
    course = make_course(session, make_university(session))
    uscc = fake_uscc(random.Random(3), region="370700")
    response = anonymous.post(
        "/api/v1/enrollments", json=_body(course, company_uscc=uscc, company_name="潍坊某公司")
    )
    assert response.status_code == 201, response.text
    [company] = _companies(new_session)
    assert company.confirmed and company.city_code == "3707"
    with new_session() as s:
        assert tally.total(s, "companies_joined") == 1


def test_a_listed_company_chosen_by_its_code_needs_no_name(anonymous, session, new_session):
    known = make_company(session, name="青岛某服饰有限公司")
    course = make_course(session, make_university(session))
    response = anonymous.post("/api/v1/enrollments", json=_body(course, company_uscc=known.uscc))
    assert response.status_code == 201, response.text
    assert [c.id for c in _companies(new_session)] == [known.id]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "company_name"),
        ({"company_name": "   "}, "company_name"),
        ({"company_name": "\u3000\u3000"}, "company_name"),
        ({"company_name": "青"}, "company_name"),
        ({"company_name": "x" * 101}, "company_name"),
        ({"company_uscc": "91370100MA3C5H2Q1Y", "company_name": "某公司"}, "company_uscc"),
    ],
)
def test_an_employer_missing_or_too_short_is_a_field_error(anonymous, session, given, field):
    course = make_course(session, make_university(session))
    response = anonymous.post("/api/v1/enrollments", json=_body(course, **given))
    assert response.status_code == 422, response.text
    assert field in _errors(response)
    assert session.exec(select(Company)).first() is None


def test_on_the_page_a_name_alone_enrolls(anonymous, session, new_session):
    course = make_course(session, make_university(session))
    path = f"/courses/{course.code}"
    response = anonymous.post(
        f"{path}/enroll",
        data={
            "csrf_token": anonymous.csrf(path),
            "name": "李䶮",
            "id_number": new_id_number(),
            "mobile": "13800138000",
            "company_query": "",
            "company_known": "",
            "company_uscc": "",
            "company_name": "淄博某织造厂",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    [company] = _companies(new_session)
    assert company.name == "淄博某织造厂" and company.uscc is None


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite has one writer at a time: nothing races")
def test_two_trainees_typing_a_new_name_at_once_make_one_company(session, new_session):
    """PostgreSQL: both look the name up, find nothing and insert; the unique name_key makes
    the later one take the first one's company instead of failing or making a second."""
    ready = threading.Barrier(2, timeout=30)
    made: list[int] = []
    errors: list[BaseException] = []

    def enter(typed: str) -> None:
        try:
            with new_session() as s:
                ready.wait()
                made.append(companies.find_or_create(s, uscc=None, name=typed).id)
                s.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=enter, args=(n,)) for n in ("日照某厂", " 日照某厂 ")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(made)) == 1
    assert len(_companies(new_session)) == 1
