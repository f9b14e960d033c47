"""Finding the employer in the public enrollment form by typing part of its name (issue 10):
a short list with each company's city, of companies a university or an administrator vouched
for only; a plain search step of the form without JavaScript."""

import pytest
from sqlmodel import select

from app.enrollments.models import Enrollment
from tests.factories import (
    make_company,
    make_course,
    make_listed_company,
    make_university,
    new_id_number,
)
from tests.html import field_errors, page

SEARCH = "/api/v1/companies/search"


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["companies"]]


def test_the_search_lists_known_companies_with_their_cities(anonymous, session):
    make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    make_listed_company(session, name="青岛恒联纺织有限公司", city_code="3702")
    make_listed_company(session, name="滨州华纺股份有限公司", city_code="3716")

    response = anonymous.get(SEARCH, params={"q": "恒联"})

    found = {c["name"]: c for c in response.json()["companies"]}
    assert set(found) == {"潍坊恒联纺织有限公司", "青岛恒联纺织有限公司"}
    assert found["潍坊恒联纺织有限公司"]["city_name"] == "潍坊"
    assert found["青岛恒联纺织有限公司"]["city_name_en"] == "Qingdao"
    assert found["青岛恒联纺织有限公司"]["uscc"]


def test_names_nobody_vouched_for_are_never_listed(anonymous, session):
    make_listed_company(session, name="淄博真实纺织有限公司")
    make_company(session, name="淄博随手注册纺织有限公司")  # a valid code typed by a stranger
    course = make_course(session, make_university(session))
    planted = anonymous.post(
        "/api/v1/enrollments",
        json={
            "course_code": course.code,
            "name": "李䶮",
            "id_number": new_id_number(),
            "mobile": "13800138000",
            "company_name": "淄博广告位纺织 加微信",
            "consent": True,
        },
    )
    assert planted.status_code == 201

    assert _names(anonymous.get(SEARCH, params={"q": "淄博"})) == ["淄博真实纺织有限公司"]


def test_at_most_ten_and_shorter_than_two_characters_nothing(anonymous, session):
    for i in range(12):
        make_listed_company(session, name=f"日照第{i:02d}针织厂")
    assert len(_names(anonymous.get(SEARCH, params={"q": "针织"}))) == 10
    assert _names(anonymous.get(SEARCH, params={"q": "针"})) == []
    assert _names(anonymous.get(SEARCH, params={"q": "  "})) == []
    assert _names(anonymous.get(SEARCH)) == []


@pytest.mark.parametrize("q", ["%", "_", "a%b", "日_", "'; DROP TABLE company; --", "\\"])
def test_wildcards_and_sql_are_plain_characters(anonymous, session, q):
    make_listed_company(session, name="日照针织厂")
    make_listed_company(session, name="100%棉纺织有限公司")
    found = _names(anonymous.get(SEARCH, params={"q": q}))
    assert "日照针织厂" not in found


def test_a_percent_sign_finds_the_name_that_has_one(anonymous, session):
    make_listed_company(session, name="日照针织厂")
    make_listed_company(session, name="100%棉纺织有限公司")
    assert _names(anonymous.get(SEARCH, params={"q": "0%棉"})) == ["100%棉纺织有限公司"]


def test_a_search_of_a_thousand_characters_is_a_field_error(anonymous, session):
    response = anonymous.get(SEARCH, params={"q": "纺" * 1000})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["q"]


def _form(anonymous, course, **overrides) -> dict:
    return {
        "csrf_token": anonymous.csrf(f"/courses/{course.code}"),
        "name": "李䶮",
        "id_number": new_id_number(),
        "mobile": "13800138000",
        "email": "li@example.com",
        "company_query": "",
        "company_known": "",
        "company_uscc": "",
        "company_name": "",
        "consent": "yes",
        **overrides,
    }


def test_without_javascript_the_search_is_a_step_that_keeps_what_was_typed(anonymous, session):
    weifang = make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    make_listed_company(session, name="青岛恒联纺织有限公司", city_code="3702")
    course = make_course(session, make_university(session))

    response = anonymous.post(
        f"/courses/{course.code}/enroll",
        data={**_form(anonymous, course, company_query="恒联"), "action": "find_company"},
    )

    assert response.status_code == 200
    form = page(response)
    choices = {
        r["value"]: r.find_parent("label").get_text(" ", strip=True)
        for r in form.select("input[type=radio][name=company_known]")
    }
    assert "潍坊" in choices[weifang.uscc] and "潍坊恒联纺织有限公司" in choices[weifang.uscc]
    assert len(choices) == 3  # the two found and "none of these"
    assert form.select_one("#f-name")["value"] == "李䶮"
    assert form.select_one("#f-email")["value"] == "li@example.com"
    assert form.select_one("#f-company_query")["value"] == "恒联"
    assert form.select_one("input[name=consent]").has_attr("checked")
    enrolled = select(Enrollment).where(Enrollment.course_id == course.id)
    assert session.exec(enrolled).first() is None  # nobody enrolled by searching


def test_the_company_chosen_from_the_step_enrolls(anonymous, session, new_session):
    weifang = make_listed_company(session, name="潍坊恒联纺织有限公司", city_code="3707")
    course = make_course(session, make_university(session))
    response = anonymous.post(
        f"/courses/{course.code}/enroll",
        data=_form(anonymous, course, company_query="恒联", company_known=weifang.uscc),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    with new_session() as s:
        enrollment = s.exec(select(Enrollment).where(Enrollment.course_id == course.id)).one()
        assert enrollment.company_id == weifang.id


def test_a_long_search_in_the_step_is_shown_beside_its_field(anonymous, session):
    course = make_course(session, make_university(session))
    response = anonymous.post(
        f"/courses/{course.code}/enroll",
        data={**_form(anonymous, course, company_query="x" * 1000), "action": "find_company"},
    )
    assert response.status_code == 200
    assert "company_query" in field_errors(response)


def test_the_type_ahead_is_a_same_origin_script(anonymous, session):
    course = make_course(session, make_university(session))
    form = page(anonymous.get(f"/courses/{course.code}"))
    assert form.select_one("#f-company_query")["data-search-url"] == SEARCH
    scripts = [s.get("src") for s in form.select("script")]
    assert "/static/employer.js" in scripts
    assert all(s.get("src") for s in form.select("script"))  # no inline script
    assert anonymous.get("/static/employer.js").status_code == 200
