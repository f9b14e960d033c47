"""Matching an unconfirmed company to the real one (issue 10): an administrator for any, a
university's staff for those named in its courses; the enrollments and completions move, it
is audited, and the goal counters follow (the teardown recounts them too)."""

import random

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.completions.models import Completion
from app.enrollments.models import Enrollment
from app.goals import tally
from tests.factories import (
    enroll_by_employer_name,
    make_company,
    make_completion,
    make_course,
    make_enrollment,
)
from tests.html import field_errors, flash, page

LIST = "/companies/unconfirmed"


@pytest.fixture
def named(session, university_a):
    """An unconfirmed company with two enrollments in university A's course, one completed."""
    course = make_course(session, university_a)
    done = enroll_by_employer_name(session, course, "潍坊某某纺织厂")
    enroll_by_employer_name(session, course, "潍坊某某纺织厂")
    make_completion(session, done, course)
    session.commit()
    company = session.get(Company, done.company_id)
    assert company is not None and company.uscc is None
    return company


def _counted(new_session) -> dict:
    with new_session() as s:
        return {
            goal: tally.total(s, goal)
            for goal in ("companies", "companies_joined", "talents", "enrolled")
        }


def _match(persona, company_id: int, **fields):
    path = f"{LIST}/{company_id}"
    return persona.post(
        f"{path}/match", data={"csrf_token": persona.csrf(path), **fields}, follow_redirects=False
    )


def test_an_unconfirmed_company_counts_for_nothing_until_matched(named, new_session):
    assert _counted(new_session) == {
        "companies": 0,
        "companies_joined": 0,
        "talents": 1,
        "enrolled": 2,
    }


def test_the_administrator_merges_it_into_the_real_company(
    session, new_session, admin, named, university_a
):
    real = make_company(session, name="潍坊某某纺织有限公司", city_code="3707")
    course = make_course(session, university_a)
    enrollment, _ = make_enrollment(session, course, company=real)
    make_completion(session, enrollment, course)
    session.commit()
    assert _counted(new_session)["companies"] == 1

    listed = admin.get(LIST)
    assert named.name in listed.text
    found = admin.get(f"{LIST}/{named.id}", params={"q": "某某纺织"})
    assert [r["value"] for r in page(found).select("input[name=into]")] == [str(real.id)]

    response = _match(admin, named.id, into=str(real.id))

    assert response.status_code == 303
    assert flash(admin.get(response.headers["location"]))
    with new_session() as s:
        assert s.get(Company, named.id) is None
        assert {e.company_id for e in s.exec(select(Enrollment))} == {real.id}
        assert {c.company_id for c in s.exec(select(Completion))} == {real.id}
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "company.merge"))
        assert event.object_id == str(named.id) and event.actor == f"user:{admin.user.id}"
        assert '"enrollments": 2' in event.detail and '"completions": 1' in event.detail
    assert _counted(new_session) == {
        "companies": 1,
        "companies_joined": 1,
        "talents": 2,
        "enrolled": 3,
    }


def test_staff_give_its_code_and_it_is_confirmed_with_its_city(
    session, new_session, staff_a, named
):
    uscc = fake_uscc(random.Random(5), region="370200")

    response = _match(staff_a, named.id, uscc=uscc.lower())

    assert response.status_code == 303, response.text
    with new_session() as s:
        company = s.get(Company, named.id)
        assert company.uscc == uscc and company.city_code == "3702" and company.vouched
        counted = tally.counts(s, "companies")
        assert counted[("companies", "city:3702")] == 1
        assert tally.counts(s, "talents").get(("talents", "city:3702")) == 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "company.confirm")).one()
    assert _counted(new_session)["companies"] == 1
    assert _counted(new_session)["companies_joined"] == 1
    # Vouched for by the match: the public form lists it now.
    assert staff_a.get("/api/v1/companies/search", params={"q": "某某纺织"}).json()["companies"]


def test_a_code_a_company_already_has_merges_into_it(session, new_session, admin, named):
    real = make_company(session, name="潍坊正式名称有限公司", city_code="3707")
    response = _match(admin, named.id, uscc=real.uscc)
    assert response.status_code == 303
    with new_session() as s:
        assert s.get(Company, named.id) is None
        assert {e.company_id for e in s.exec(select(Enrollment))} == {real.id}
    assert _counted(new_session)["companies"] == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({}, "uscc"), ({"uscc": "91370100MA3C5H2Q1Y"}, "uscc"), ({"into": "999"}, "into")],
)
def test_a_wrong_match_is_a_field_error_and_changes_nothing(
    session, new_session, admin, named, fields, field
):
    response = _match(admin, named.id, **fields)
    assert response.status_code == 422
    assert field in field_errors(response)
    with new_session() as s:
        assert s.get(Company, named.id).uscc is None


def test_a_confirmed_company_is_not_a_place_to_merge_from(session, admin):
    real = make_company(session)
    assert admin.get(f"{LIST}/{real.id}").status_code == 404
    assert _match(admin, real.id, uscc=real.uscc).status_code == 404


def test_staff_of_another_university_neither_see_nor_match_it(session, new_session, staff_b, named):
    assert named.name not in staff_b.get(LIST).text
    assert staff_b.get(f"{LIST}/{named.id}").status_code == 404
    uscc = fake_uscc(random.Random(6))
    path = f"{LIST}/{named.id}/match"
    response = staff_b.post(path, data={"csrf_token": staff_b.csrf(LIST), "uscc": uscc})
    assert response.status_code == 404
    with new_session() as s:
        assert s.get(Company, named.id).uscc is None


def test_staff_of_its_university_see_it(staff_a, named):
    assert named.name in staff_a.get(LIST).text


def test_the_form_needs_its_csrf_token(session, new_session, admin, named):
    response = admin.post(f"{LIST}/{named.id}/match", data={"uscc": fake_uscc(random.Random(8))})
    assert response.status_code == 403
    with new_session() as s:
        assert s.get(Company, named.id).uscc is None


def test_anonymous_visitors_are_sent_to_log_in(anonymous, named):
    response = anonymous.get(LIST, follow_redirects=False)
    assert response.status_code in (303, 401)


def test_the_api_twin_lists_and_matches_in_scope(
    session, new_session, anonymous, named, university_a, university_b
):
    _, mine = auth.create_token(session, name="a", role="university", university_id=university_a.id)
    _, other = auth.create_token(
        session, name="b", role="university", university_id=university_b.id
    )
    session.commit()
    a, b = ({"Authorization": f"Bearer {t}"} for t in (mine, other))

    assert anonymous.get("/api/v1/companies/unconfirmed", headers=b).json() == []
    [row] = anonymous.get("/api/v1/companies/unconfirmed", headers=a).json()
    assert row == {"id": named.id, "name": named.name, "enrollments": 2, "completions": 1}

    uscc = fake_uscc(random.Random(9), region="370300")
    path = f"/api/v1/companies/unconfirmed/{named.id}/match"
    assert anonymous.post(path, headers=b, json={"uscc": uscc}).status_code == 404
    bad = anonymous.post(path, headers=a, json={"uscc": "12"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "uscc"

    response = anonymous.post(path, headers=a, json={"uscc": uscc})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["company"]["uscc"] == uscc and body["company"]["city_code"] == "3703"
    assert body["company_id"] == named.id and body["enrollments"] == 2
    assert _counted(new_session)["companies"] == 1
