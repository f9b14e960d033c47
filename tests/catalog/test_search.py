"""The catalog's search and filters, as a trainee uses them: GET /courses and GET /api/v1/courses."""

from datetime import timedelta

import pytest
from sqlmodel import text as sql

from app import clock
from tests.factories import make_course, make_university
from tests.html import field_errors, page, texts

TODAY = clock.today()


@pytest.fixture
def weifang(session):
    return make_university(session, code="WFU", name="潍坊学院", city_code="3707")


@pytest.fixture
def jinan(session):
    return make_university(session, code="QLU", name="齐鲁工业大学", city_code="3701")


def _titles(client, **query) -> list[str]:
    response = client.get("/courses", params=query)
    assert response.status_code == 200, response.text
    return texts(response, "li.course h3")


def _codes(client, **query) -> list[str]:
    response = client.get("/api/v1/courses", params=query)
    assert response.status_code == 200, response.text
    return [c["code"] for c in response.json()]


def test_chinese_is_found_in_a_title_and_in_a_description(client, session, weifang, jinan):
    make_course(session, weifang, code="T-1", title="纺织企业数字化转型")
    make_course(
        session, jinan, code="D-1", title="针织工艺", description="课程涵盖数字化\n\n车间管理"
    )
    make_course(session, jinan, code="X-1", title="印染基础", description="传统工艺")
    assert sorted(_codes(client, q="数字化")) == ["D-1", "T-1"]
    assert sorted(_titles(client, q="数字化")) == ["纺织企业数字化转型", "针织工艺"]
    # Shorter than a trigram: the same meaning, found without the index.
    assert sorted(_codes(client, q="数字")) == ["D-1", "T-1"]
    assert _codes(client, q="印") == ["X-1"]


def test_the_english_title_is_searched_without_regard_to_case(client, session, jinan):
    make_course(session, jinan, code="E-1", title="服装设计", title_en="Digital Garment Design")
    make_course(session, jinan, code="E-2", title="家纺", title_en="Home Textiles")
    assert _codes(client, q="garment design") == ["E-1"]
    assert _codes(client, q="DIGITAL") == ["E-1"]


def test_an_edited_title_is_found_by_its_new_words_only(client, session, jinan):
    """The index follows the table (migration 0015's triggers)."""
    course = make_course(session, jinan, code="ED-1", title="旧的课程名称")
    assert _codes(client, q="旧的课程") == ["ED-1"]
    course.title = "智能制造入门"
    session.add(course)
    session.commit()
    assert _codes(client, q="旧的课程") == []
    assert _codes(client, q="智能制造") == ["ED-1"]
    session.delete(course)
    session.commit()
    assert _codes(client, q="智能制造") == []


def test_a_trainee_in_weifang_finds_the_courses_taught_there(client, session, weifang, jinan):
    make_course(session, weifang, code="WF-1", title="数字化纺织")
    make_course(session, jinan, code="JN-1", title="数字化服装")
    # A Jinan university teaching in Weifang: the course's city counts, not the university's.
    make_course(session, jinan, code="JN-WF", title="数字化家纺", city_code="3707")
    assert sorted(_codes(client, city="3707", q="数字化")) == ["JN-WF", "WF-1"]
    assert _codes(client, city="3701") == ["JN-1"]
    assert _codes(client, university="wfu") == ["WF-1"]
    where = texts(client.get("/courses", params={"city": "3707"}), "li.course .where")
    assert all("潍坊" in w for w in where) and len(where) == 2


def test_mode_cluster_dates_and_seats(client, session, jinan):
    start = TODAY + timedelta(days=10)
    make_course(
        session,
        jinan,
        code="M-ON",
        mode="online",
        cluster="knitwear",
        starts_on=start,
        ends_on=start + timedelta(days=5),
    )
    make_course(session, jinan, code="M-SITE", mode="on_site", cluster="home_textiles")
    make_course(session, jinan, code="FULL", capacity=3, seats_taken=3, cluster="knitwear")
    assert _codes(client, mode="online") == ["M-ON"]
    assert sorted(_codes(client, cluster="knitwear")) == ["FULL", "M-ON"]
    assert _codes(client, cluster="knitwear", seats="1") == ["M-ON"]
    assert "FULL" not in _codes(client, seats="true")
    assert _codes(client, starts_from=str(start)) == ["M-ON"]
    assert "M-ON" not in _codes(client, starts_to=str(start - timedelta(days=1)))
    assert _codes(client, starts_from=str(start), starts_to=str(start)) == ["M-ON"]


def test_drafts_and_closed_courses_are_never_listed(client, session, jinan):
    make_course(session, jinan, code="OPEN", title="数字化开放")
    make_course(session, jinan, code="DRAFT", title="数字化草稿", is_draft=True)
    make_course(session, jinan, code="SHUT", title="数字化关闭", is_open=False)
    make_course(
        session, jinan, code="PAST", title="数字化截止", enroll_closes_on=TODAY - timedelta(days=1)
    )
    make_course(
        session,
        jinan,
        code="OVER",
        title="数字化结束",
        starts_on=TODAY - timedelta(days=9),
        ends_on=TODAY - timedelta(days=1),
    )
    assert _codes(client) == ["OPEN"]
    assert _codes(client, q="数字化") == ["OPEN"]
    assert _titles(client, q="数字") == ["数字化开放"]


@pytest.mark.parametrize(
    "query, matches",
    [
        ("100%", ["PCT"]),  # % is a percent sign, not "anything"
        ("%", ["PCT"]),
        ("a_b", ["UND"]),  # _ is an underscore, not "any one character"
        ("_", ["UND"]),
        ("C:\\x", ["BSL"]),
        ("\\", ["BSL"]),
        ('"棉纺"', ["QUO"]),  # a double quote is text, not FTS5's phrase syntax
        ("棉 OR 纺", []),  # nor is OR an operator
        ("'; DROP TABLE course; --", []),
    ],
)
def test_wildcards_quotes_and_sql_are_text(client, session, jinan, query, matches):
    make_course(session, jinan, code="PCT", title="合格率100%的秘诀")
    make_course(session, jinan, code="UND", title="变量a_b的用法")
    make_course(session, jinan, code="AXB", title="变量axb与a1b")
    make_course(session, jinan, code="BSL", title="路径C:\\x说明")
    make_course(session, jinan, code="QUO", title='所谓"棉纺"工艺')
    assert _codes(client, q=query) == matches
    assert session.exec(sql("SELECT COUNT(*) FROM course")).one()[0] == 5


@pytest.mark.parametrize(
    "query", ["***", "^棉纺", "a:b", "NEAR(a b)", "-棉纺", "👗👗👗", "(((", "title:棉", "棉纺*"]
)
def test_fts_syntax_is_searched_as_text(client, session, jinan, query):
    make_course(session, jinan, code="ODD", title=f"课程{query}说明")
    make_course(session, jinan, code="PLAIN", title="棉纺工艺")
    assert _codes(client, q=query) == ["ODD"]


def test_a_query_of_1000_characters_is_a_field_error(client, session, jinan):
    make_course(session, jinan)
    too_long = "数" * 1000
    api = client.get("/api/v1/courses", params={"q": too_long})
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == "q"
    page_ = client.get("/courses", params={"q": too_long})
    assert page_.status_code == 422 and "q" in field_errors(page_)
    assert client.get("/api/v1/courses", params={"q": "数" * 100}).status_code == 200


@pytest.mark.parametrize(
    "query, field",
    [
        ({"mode": "flying"}, "mode"),
        ({"cluster": "nope"}, "cluster"),
        ({"city": "潍坊"}, "city"),
        ({"starts_from": "2026-13-01"}, "starts_from"),
        ({"starts_from": "2026-05-02", "starts_to": "2026-05-01"}, "starts_to"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"page": str(10**30)}, "page"),
        ({"per_page": "1000"}, "per_page"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_filters_are_named(client, session, jinan, query, field):
    make_course(session, jinan, code="KEEP")
    api = client.get("/api/v1/courses", params=query)
    assert api.status_code == 422 and [e["field"] for e in api.json()["errors"]] == [field]
    shown = client.get("/courses", params=query)
    assert shown.status_code == 422 and list(field_errors(shown)) == [field]
    # The filter that is wrong is left out; the list stays.
    assert texts(shown, "li.course h3") != [] or field == "page"


def test_pages_of_the_catalog(client, session, jinan):
    for n in range(25):
        make_course(session, jinan, code=f"P-{n:02}", starts_on=TODAY + timedelta(days=n))
    first = client.get("/api/v1/courses", params={"per_page": 10})
    assert [c["code"] for c in first.json()] == [f"P-{n:02}" for n in range(10)]
    assert first.headers["x-total-count"] == "25"
    assert 'rel="next"' in first.headers["link"] and 'rel="prev"' not in first.headers["link"]
    third = client.get("/api/v1/courses", params={"per_page": 10, "page": 3})
    assert [c["code"] for c in third.json()] == ["P-20", "P-21", "P-22", "P-23", "P-24"]
    assert 'rel="prev"' in third.headers["link"] and "page=2" in third.headers["link"]
    beyond = client.get("/api/v1/courses", params={"per_page": 10, "page": 4})
    assert beyond.status_code == 200 and beyond.json() == []
    assert beyond.headers["x-total-count"] == "25"

    shown = client.get("/courses", params={"page": 2})  # 20 a page
    assert texts(shown, "li.course h3") and len(page(shown).select("li.course")) == 5
    assert page(shown).select_one("nav.pages a[rel=prev]")["href"] == "/courses"
    past = client.get("/courses", params={"page": 9, "city": "3701"})
    assert past.status_code == 200 and page(past).select("li.course") == []
    back = page(past).select_one("p.notice a")
    assert back is not None and back["href"] == "/courses?city=3701&page=2"
    assert len(page(client.get(back["href"])).select("li.course")) == 5


def test_the_page_keeps_what_was_asked(client, session, jinan):
    make_course(session, jinan, title="数字化")
    shown = page(client.get("/courses", params={"q": "数字化", "city": "3701", "seats": "1"}))
    assert shown.select_one("#f-q")["value"] == "数字化"
    assert shown.select_one("#f-city option[selected]")["value"] == "3701"
    assert shown.select_one("input[name=seats]").has_attr("checked")
    assert shown.select_one("details.more-filters").has_attr("open")
    nothing = client.get("/courses", params={"q": "没有这门课"})
    assert "courses" in page(nothing).select_one("main p a")["href"]
