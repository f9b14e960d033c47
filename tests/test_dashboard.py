"""The goals' dashboard: the administrators' (/admin/goals), its public summary (the home page)
and a university's part (/staff/goals). Charts are inline SVG with every count as text; each
figure carries the same name and definition on every page, in both languages."""

from datetime import timedelta

import pytest

from app import clock
from app.auth import service as auth
from tests import files
from tests.factories import make_company, make_course, make_enrollment
from tests.html import page, text, texts

TODAY = clock.today()
FIGURES = (
    "universities",
    "companies",
    "talents",
    "enrolled",
    "universities_joined",
    "companies_joined",
)


def _complete(client, session, university, rows):
    """Completions as a university records them: its token, POST /api/v1/completions."""
    _, token = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    response = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("done.xlsx", files.xlsx(rows))},
    )
    assert response.status_code == 200 and not response.json()["rejected"], response.text


@pytest.fixture
def campaign(client, session, university_a, university_b):
    """A in Jinan trains 张三 and 李四 of a Zibo knitwear company; B in Qingdao trains 王五 of
    a Qingdao home-textiles company; 赵六 enrolls at A and has not completed."""
    university_a.city_code, university_b.city_code = "3701", "3702"
    session.add_all([university_a, university_b])
    session.commit()
    early = TODAY - timedelta(days=120)
    course_a = make_course(session, university_a, starts_on=early, code="A-01")
    course_b = make_course(session, university_b, starts_on=early, code="B-01")
    zibo = make_company(session, name="淄博针织服饰有限公司", city_code="3703", cluster="knitwear")
    qingdao = make_company(
        session, name="青岛家纺有限公司", city_code="3702", cluster="home_textiles"
    )
    _, zhang = make_enrollment(session, course_a, name="张三", company=zibo)
    _, li = make_enrollment(session, course_a, name="李四", company=zibo)
    _, wang = make_enrollment(session, course_b, name="王五", company=qingdao)
    make_enrollment(session, course_a, name="赵六", company=qingdao)
    day = lambda n: (TODAY - timedelta(days=n)).isoformat()  # noqa: E731
    _complete(
        client,
        session,
        university_a,
        [["张三", zhang, "A-01", day(100), "90"], ["李四", li, "A-01", day(1), "80"]],
    )
    _complete(client, session, university_b, [["王五", wang, "B-01", day(1), "85"]])
    return {"a": university_a, "b": university_b}


def _tile(response, code: str) -> str:
    return text(response, f'svg.tile-map g.tile[data-city="{code}"] text.count')


def test_the_administrators_dashboard_draws_every_chart_with_its_counts(admin, campaign):
    response = admin.get("/admin/goals")
    assert response.status_code == 200
    assert [g.split(" / ")[0] for g in texts(response, ".goal-count")] == ["2", "2", "3"]
    # The map: talents by the companies' cities, each tile's count printed.
    assert len(page(response).select("svg.tile-map g.tile")) == 16
    assert (_tile(response, "3703"), _tile(response, "3702"), _tile(response, "3701")) == (
        "2",
        "1",
        "0",
    )
    # The cumulative chart ends at today's count, beside its target.
    talents_chart = page(response).select("svg.cumulative")[2]
    assert talents_chart.select("text.count")[-1].get_text() == "3"
    assert talents_chart.select_one("text.target").get_text() == "5000"
    # By university, by company, by cluster: names and counts as text.
    bars = [
        [
            (r.select("text")[0].get_text(), r.select_one("text.count").get_text())
            for r in svg.select("g.bar-row")
        ]
        for svg in page(response).select("svg.bars")
    ]
    university_a, university_b = campaign["a"], campaign["b"]
    assert bars[0] == [(university_a.name, "2"), (university_b.name, "1")]
    assert bars[1] == [("淄博针织服饰有限公司", "2"), ("青岛家纺有限公司", "1")]
    assert sorted(bars[2]) == [("家纺", "1"), ("针织", "1")]  # companies empowered by cluster
    assert sorted(bars[3]) == [("家纺", "1"), ("针织", "2")]  # talents by cluster


def test_the_map_shows_the_measure_asked_for(admin, campaign):
    response = admin.get("/admin/goals?map=universities")
    assert (_tile(response, "3701"), _tile(response, "3702"), _tile(response, "3703")) == (
        "1",
        "1",
        "0",
    )
    assert _tile(admin.get("/admin/goals?map=nonsense"), "3703") == "2"  # talents, the default


def test_charts_need_no_script_and_no_style_attribute(admin, campaign):
    response = admin.get("/admin/goals")
    soup = page(response)
    assert not soup.select("script")
    assert not [e for svg in soup.select("svg") for e in svg.find_all(style=True)]
    assert "script-src 'none'" in response.headers["content-security-policy"]


def test_the_home_page_summary_has_the_goals_pace_and_map(anonymous, campaign):
    response = anonymous.get("/")
    assert _tile(response, "3703") == "2"
    assert texts(response, ".goal-count") == ["2 / 50", "2 / 500", "3 / 5000"]
    assert len(texts(response, ".goal .pace")) == 3
    assert "任务周期：2026-01-01 至 2027-12-31" in text(response, ".goals .period")


def test_pace_on_the_pages_follows_the_period(admin, anonymous, client, campaign):
    # 100 days passed of 365: 3 talents of 10 reach the target on day ceil(10 * 100 / 3) = 334;
    # 2 universities of 50 would take 2,500 days.
    starts_on = TODAY - timedelta(days=99)
    plan = {
        "universities": "50",
        "companies": "500",
        "talents": "10",
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + timedelta(days=364)).isoformat(),
        "csrf_token": admin.csrf("/admin/goals"),
    }
    assert admin.post("/admin/goals", data=plan, follow_redirects=False).status_code == 303
    reaches_on = (starts_on + timedelta(days=333)).isoformat()
    home = anonymous.get("/")
    assert text(home, "#goal-talents .pace").startswith(
        f"✓ 进度正常：按目前速度，将于 {reaches_on} 完成目标"
    )
    assert "按均匀进度，截至今天应达到 2" in text(home, "#goal-talents .pace")  # 10 * 100 // 365
    assert "进度落后" in text(home, "#goal-universities .pace")
    body = client.get("/api/v1/goals").json()
    assert body["talents"]["pace"] == {"state": "on_track", "expected": 2, "reaches_on": reaches_on}
    assert body["universities"]["pace"]["state"] == "behind"
    assert body["universities"]["pace"]["reaches_on"] is None
    english = anonymous.get("/", headers={"Accept-Language": "en"})
    assert f"the target is reached on {reaches_on}" in text(english, "#goal-talents .pace")
    assert "not before the period ends" in text(english, "#goal-universities .pace")


def test_staff_see_their_own_universitys_part(staff_a, staff_b, campaign):
    mine = staff_a.get("/staff/goals")
    assert mine.status_code == 200
    values = {
        e["data-figure"]: e.get_text() for e in page(mine).select("dd.figure-value[data-figure]")
    }
    assert values == {"talents": "2", "companies": "1", "enrolled": "3", "courses": "1"}
    assert (_tile(mine, "3703"), _tile(mine, "3702")) == ("2", "0")  # 王五 is B's
    assert "青岛家纺有限公司" not in mine.text and campaign["b"].name not in mine.text
    assert page(mine).select("svg.cumulative")[-1].select("text.count")[-1].get_text() == "2"
    theirs = staff_b.get("/staff/goals")
    assert (_tile(theirs, "3703"), _tile(theirs, "3702")) == ("0", "1")
    assert "淄博针织服饰有限公司" not in theirs.text


def test_the_dashboards_are_for_their_own_people(staff_a, admin, anonymous):
    assert staff_a.get("/admin/goals").status_code == 403
    assert admin.get("/staff/goals").status_code == 403
    assert anonymous.get("/staff/goals", follow_redirects=False).status_code == 303


def _definitions(response) -> dict[str, tuple[str, str]]:
    found = {}
    for definition in page(response).select(".definition[data-figure]"):
        name = definition.find_previous_sibling(class_="figure-name")
        found.setdefault(definition["data-figure"], (name.get_text(), definition.get_text()))
    return found


@pytest.mark.parametrize(
    ("language", "universities", "joined"),
    [
        (
            "zh",
            ("联合高校", "至少有一条结业记录的高校"),
            ("参与高校", "至少开设一门培训课程的高校"),
        ),
        (
            "en",
            ("Universities united", "Universities with at least one completion"),
            ("Universities joined", "Universities with at least one course"),
        ),
    ],
)
def test_every_figure_has_one_name_and_definition_on_every_page(
    admin, anonymous, campaign, language, universities, joined
):
    headers = {"Accept-Language": language}
    home = _definitions(anonymous.get("/", headers=headers))
    assert home["universities"] == universities and home["universities_joined"] == joined
    assert set(home) == set(FIGURES)
    for path in ("/admin", "/admin/goals"):
        assert _definitions(admin.get(path, headers=headers)) == home, path


def test_the_dashboards_are_linked_from_the_pages_people_start_on(admin, staff_a):
    assert page(admin.get("/admin")).select_one('main a[href="/admin/goals"]') is not None
    assert page(staff_a.get("/staff")).select_one('main a[href="/staff/goals"]') is not None
