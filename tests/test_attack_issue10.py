"""Issue 10's new surface as an outsider or another university's staff would try it: query
strings no form check cleaned (NUL, other scripts' digits), row ids past any integer column,
two people matching one company at once, the cached catalog in each language, and names
typed as HTML. Run on SQLite and PostgreSQL (PostgreSQL refuses a NUL outright)."""

import random

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from app.companies import matching
from app.companies.validators import fake_uscc
from app.enrollments.models import Enrollment
from app.errors import NotFound
from tests.factories import (
    enroll_by_employer_name,
    make_company,
    make_course,
    make_listed_company,
)
from tests.html import field_errors, page, texts


@pytest.mark.parametrize(
    "query, field",
    [
        ({"university": "SDUT\x00"}, "university"),
        ({"university": "山东理工"}, "university"),
        ({"city": "٣٧٠١"}, "city"),  # Arabic-Indic digits: \d would take them
    ],
)
def test_catalog_filters_no_form_checked_are_field_errors(
    anonymous, session, university_a, query, field
):
    make_course(session, university_a, code="KEEP")
    api = anonymous.get("/api/v1/courses", params=query)
    assert api.status_code == 422 and [e["field"] for e in api.json()["errors"]] == [field]
    shown = anonymous.get("/courses", params=query)
    assert shown.status_code == 422 and list(field_errors(shown)) == [field]
    assert texts(shown, "li.course h3") != []  # the filter left out, the list kept


def test_a_nul_in_a_company_search_is_a_field_error(anonymous, admin, session, university_a):
    make_listed_company(session, name="潍坊纺织有限公司")
    api = anonymous.get("/api/v1/companies/search", params={"q": "纺织\x00"})
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "q"
    assert [c["name"] for c in _search(anonymous, "纺织")] == ["潍坊纺织有限公司"]
    unconfirmed = enroll_by_employer_name(session, make_course(session, university_a)).company_id
    shown = admin.get(f"/companies/unconfirmed/{unconfirmed}", params={"q": "纺织\x00"})
    assert shown.status_code == 200 and page(shown).select("input[name=into]") == []


def _search(client, q: str) -> list[dict]:
    return client.get("/api/v1/companies/search", params={"q": q}).json()["companies"]


@pytest.mark.parametrize("company_id", [10**30, 2**63, 2**31, 0, -1])
def test_a_company_number_past_any_row_is_refused_not_a_500(anonymous, session, company_id):
    _, token = auth.create_token(session, name="整合", role="admin")
    session.commit()
    response = anonymous.post(
        f"/api/v1/companies/unconfirmed/{company_id}/match",
        headers={"Authorization": f"Bearer {token}"},
        json={"uscc": fake_uscc(random.Random(1), region="370300")},
    )
    assert response.status_code == 422


def test_two_matching_one_company_at_once_merge_it_once(session, new_session, university_a):
    unconfirmed = enroll_by_employer_name(session, make_course(session, university_a)).company_id
    real = make_company(session, uscc=fake_uscc(random.Random(5), region="370700"))
    session.commit()
    with new_session() as first, new_session() as second:
        theirs = matching.get_unconfirmed(first, unconfirmed, None)
        mine = matching.get_unconfirmed(second, unconfirmed, None)  # read before they commit
        matching.match(first, company=theirs, into_id=real.id, actor="admin:1")
        first.commit()
        with pytest.raises(NotFound):
            # Given the code of another company meanwhile: it must not move anything again.
            matching.match(second, company=mine, uscc=fake_uscc(random.Random(6)), actor="s:2")
        second.rollback()
    with new_session() as s:
        merges = s.exec(select(AuditEvent).where(AuditEvent.action.startswith("company."))).all()
        assert [m.action for m in merges] == ["company.merge"]
        assert {e.company_id for e in s.exec(select(Enrollment))} == {real.id}


def test_the_cached_catalog_is_in_each_asker_s_language(new_client, session, university_a):
    make_course(session, university_a, mode="online", title="数字化车间")
    chinese = new_client().get("/courses", headers={"Accept-Language": "zh-CN"})
    by_header = new_client().get("/courses", headers={"Accept-Language": "en-US,en;q=0.9"})
    cookie = new_client()
    cookie.cookies.set("dandelion_lang", "en")
    by_cookie = cookie.get("/courses")
    again = new_client().get("/courses")  # no preference: Chinese, after the English pages
    for response, lang in (
        (chinese, "zh-Hans"),
        (by_header, "en"),
        (by_cookie, "en"),
        (again, "zh-Hans"),
    ):
        shown = page(response)
        assert shown.select_one("html")["lang"] == lang
        assert ("Online" in shown.select_one("li.course").text) == (lang == "en")


def test_names_typed_as_html_stay_text(anonymous, admin, session, university_a):
    course = make_course(session, university_a, title="<script>alert(1)</script>课程")
    listed = page(anonymous.get("/courses"))
    assert listed.select("li.course script") == []
    assert "<script>alert(1)</script>课程" in listed.select_one("li.course h3").text
    make_listed_company(session, name='<img src=x onerror="alert(1)">纺织')
    unconfirmed = enroll_by_employer_name(session, course, name="<b>粗体</b>纺织厂").company_id
    shown = page(admin.get(f"/companies/unconfirmed/{unconfirmed}", params={"q": "纺织"}))
    assert shown.select("main img, main b") == []
    assert "<b>粗体</b>纺织厂" in shown.select_one("main").text
    assert _search(anonymous, "img")[0]["name"].startswith("<img")  # JSON: the name as typed
