"""An administrator files companies under industry clusters: the page and its API twin (issue 6)."""

import re

import pytest
from sqlmodel import select

from app import demo
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.companies.models import CLUSTERS, Company
from tests.factories import csrf_of, login, make_company, make_university
from tests.html import page

PAGE = "/admin/companies"


def _cluster_of(new_session, uscc: str) -> str | None:
    with new_session() as s:
        return s.exec(select(Company.cluster).where(Company.uscc == uscc)).one()


def _events(new_session, company: Company) -> list[AuditEvent]:
    with new_session() as s:
        return list(
            s.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "company.cluster", AuditEvent.object_id == str(company.id)
                )
            )
        )


@pytest.fixture
def tokens(session):
    admin, admin_secret = auth.create_token(session, name="admin", role="admin")
    _, uni_secret = auth.create_token(
        session, name="u", role="university", university_id=make_university(session).id
    )
    session.commit()
    return {
        "admin": {"Authorization": f"Bearer {admin_secret}"},
        "university": {"Authorization": f"Bearer {uni_secret}"},
        "admin_actor": f"token:{admin.id}",
    }


def test_admin_files_a_company_under_a_cluster(session, new_session, admin):
    company = make_company(session, name="青岛海韵针织服饰有限公司", city_code="3702")
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert company.name in page.text and company.uscc in page.text and "青岛" in page.text

    response = admin.post(
        f"{PAGE}/{company.uscc}/cluster",
        data={"csrf_token": admin.csrf(PAGE), "cluster": "knitwear"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}#c-{company.uscc}"
    shown = admin.get(response.headers["location"])
    assert "产业集群已保存" in shown.text
    assert re.search(r'<option value="knitwear" selected>针织</option>', shown.text)
    assert _cluster_of(new_session, company.uscc) == "knitwear"
    [event] = _events(new_session, company)
    assert event.actor == admin.user.actor and '"after": "knitwear"' in event.detail


def test_not_set_clears_the_cluster(session, new_session, admin):
    company = make_company(session, cluster="sweaters")
    response = admin.post(
        f"{PAGE}/{company.uscc}/cluster", data={"csrf_token": admin.csrf(PAGE), "cluster": ""}
    )
    assert response.status_code == 200 and _cluster_of(new_session, company.uscc) is None


def test_a_cluster_not_on_the_list_shows_the_page_again_with_the_error(session, new_session, admin):
    company = make_company(session, cluster="sweaters")
    other = make_company(session)

    response = admin.post(
        f"{PAGE}/{company.uscc}/cluster", data={"csrf_token": admin.csrf(PAGE), "cluster": "silk"}
    )

    assert response.status_code == 422
    assert f'id="e-cluster-{company.uscc}"' in response.text
    assert "请从产业集群中选择一项" in response.text
    assert f'id="e-cluster-{other.uscc}"' not in response.text  # beside its own field only
    assert _cluster_of(new_session, company.uscc) == "sweaters"
    assert _events(new_session, company) == []


def test_an_unknown_uscc_is_404(session, admin):
    token = admin.csrf(PAGE)
    response = admin.post(
        f"{PAGE}/91370100MA3C0000XX/cluster", data={"csrf_token": token, "cluster": "knitwear"}
    )
    assert response.status_code == 404


def test_a_post_without_the_csrf_token_is_refused(session, new_session, admin):
    company = make_company(session)
    response = admin.post(f"{PAGE}/{company.uscc}/cluster", data={"cluster": "knitwear"})
    assert response.status_code == 403
    assert _cluster_of(new_session, company.uscc) is None


def test_staff_are_refused(staff_a, session, new_session):
    company = make_company(session)
    assert staff_a.get(PAGE).status_code == 403
    response = staff_a.post(
        f"{PAGE}/{company.uscc}/cluster",
        data={"csrf_token": staff_a.csrf("/staff"), "cluster": "knitwear"},
    )
    assert response.status_code == 403
    assert _cluster_of(new_session, company.uscc) is None


def test_anonymous_visitors_are_sent_to_the_login(client, session, new_session):
    company = make_company(session)
    page = client.get(PAGE, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fadmin%2Fcompanies"
    response = client.post(
        f"{PAGE}/{company.uscc}/cluster",
        data={"csrf_token": csrf_of(client), "cluster": "knitwear"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    assert _cluster_of(new_session, company.uscc) is None


def test_api_sets_and_clears_the_cluster(client, session, new_session, tokens):
    company = make_company(session, city_code="3707")
    url = f"/api/v1/companies/{company.uscc}"

    response = client.patch(url, headers=tokens["admin"], json={"cluster": "home_textiles"})

    assert response.status_code == 200
    assert response.json() == {
        "uscc": company.uscc,
        "name": company.name,
        "city_code": "3707",
        "cluster": "home_textiles",
    }
    assert client.patch(url, headers=tokens["admin"], json={}).json()["cluster"] == "home_textiles"
    cleared = client.patch(url, headers=tokens["admin"], json={"cluster": None})
    assert cleared.status_code == 200 and cleared.json()["cluster"] is None
    assert _cluster_of(new_session, company.uscc) is None
    events = _events(new_session, company)
    # Two changes; the empty PATCH changed nothing and left no event.
    assert [e.actor for e in events] == [tokens["admin_actor"]] * 2


def test_api_refuses_a_cluster_not_on_the_list(client, session, new_session, tokens):
    company = make_company(session)
    response = client.patch(
        f"/api/v1/companies/{company.uscc}", headers=tokens["admin"], json={"cluster": "silk"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cluster"
    assert _cluster_of(new_session, company.uscc) is None


def test_api_unknown_uscc_is_404(client, tokens):
    response = client.patch(
        "/api/v1/companies/91370100MA3C0000XX", headers=tokens["admin"], json={"cluster": "other"}
    )
    assert response.status_code == 404 and response.json()["detail"]


def test_api_needs_an_administrators_token(client, session, new_session, tokens):
    company = make_company(session)
    url = f"/api/v1/companies/{company.uscc}"
    refused = client.patch(url, headers=tokens["university"], json={"cluster": "other"})
    assert refused.status_code == 403
    assert client.patch(url, json={"cluster": "other"}).status_code == 401
    # Only an administrator learns whether a code is registered.
    unknown = "/api/v1/companies/91370100MA3C0000XX"
    assert client.patch(unknown, headers=tokens["university"], json={}).status_code == 403
    assert _cluster_of(new_session, company.uscc) is None


def test_the_database_refuses_a_cluster_not_on_the_list(session):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        make_company(session, cluster="silk")


def test_demo_companies_have_their_clusters(client, settings, session):
    demo.load(session, settings, trainees=12)
    login(client, auth.get_by_email(session, demo.ADMIN[0]), password=demo.ADMIN[1])

    page = client.get(PAGE).text

    rows = page.split("<tbody>")[1].split("</tr>")[:-1]
    assert len(rows) == len(demo.COMPANIES)
    for row in rows:
        assert re.search(r'<option value="(\w+)" selected>', row), row
    filed = dict(session.exec(select(Company.name, Company.cluster)).all())
    assert filed == {name: cluster for name, _, cluster in demo.COMPANIES}
    assert set(filed.values()) == set(CLUSTERS)


def test_the_administration_page_links_to_the_companies(admin):
    link = page(admin.get("/admin")).select_one(f'main a[href="{PAGE}"]')
    assert link is not None and link.get_text(strip=True) == "合作企业"
