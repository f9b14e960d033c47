"""The administrators' table of every university's progress: the figures against records made
by hand (through the factories, so the goals' counters follow), each column's sort both ways
as plain links, and the figures' names and definitions beside them."""

import pytest

from app.certificates.models import Certificate
from app.certificates.serials import new_serial
from app.goals.definitions import FIGURES
from tests.factories import (
    make_company,
    make_completion,
    make_course,
    make_enrollment,
    make_university,
    new_id_number,
    withdraw,
)
from tests.html import page, text

FIGURES_SHOWN = ("courses", "enrolled", "completions", "certified", "companies_reached")
ENGLISH = {"Accept-Language": "en"}


def _certificate(session, completion, course, university, status="issued") -> Certificate:
    cert = Certificate(
        serial=new_serial(2026),
        completion_id=completion.id,
        university_id=university.id,
        course_id=course.id,
        status=status,
        holder_name="张三",
        course_code=course.code,
        course_title=course.title,
        university_name=university.name,
        hours=course.hours,
        completed_on=completion.completed_on,
        issued_on=completion.completed_on,
        key_id="test",
        signature="test",
        pdf_path="none.pdf",
        pdf_sha256="0" * 64,
    )
    session.add(cert)
    return cert


@pytest.fixture
def three(session):
    """A: two courses, four trainees (one withdrawn), three completions for two companies,
    one valid certificate and one revoked. B: one of everything. C: nothing yet."""
    a = make_university(session, code="AAA", name="山东理工大学", city_code="3703")
    b = make_university(session, code="BBB", name="青岛大学", city_code="3702")
    c = make_university(session, code="CCC", name="德州学院", city_code="3714")
    first, second = make_course(session, a), make_course(session, a)
    p, q = make_company(session), make_company(session)
    x_id = new_id_number()
    x1, _ = make_enrollment(session, first, id_number=x_id, company=p)
    x2, _ = make_enrollment(session, second, id_number=x_id, company=q)
    y, _ = make_enrollment(session, first, name="李四", company=p)
    make_enrollment(session, second, name="王五", company=p)  # enrolled, not completed
    z, _ = make_enrollment(session, second, name="赵六", company=q)
    withdraw(session, z)
    done_x1 = make_completion(session, x1, first)
    done_x2 = make_completion(session, x2, second)
    make_completion(session, y, first)
    _certificate(session, done_x1, first, a)
    _certificate(session, done_x2, second, a, status="revoked")
    b_course = make_course(session, b)
    b_enrollment, _ = make_enrollment(session, b_course)
    _certificate(session, make_completion(session, b_enrollment, b_course), b_course, b)
    session.commit()
    return a, b, c


def _figures(response) -> dict[str, dict[str, int]]:
    return {
        row["data-code"]: {
            cell["data-figure"]: int(cell.get_text(strip=True))
            for cell in row.select("td[data-figure]")
        }
        for row in page(response).select("#progress tbody tr[data-code]")
    }


def _codes(response) -> list[str]:
    return [row["data-code"] for row in page(response).select("#progress tbody tr[data-code]")]


def test_each_universitys_figures(admin, three):
    response = admin.get("/admin/universities")
    assert response.status_code == 200
    assert _figures(response) == {
        # courses, distinct trainees enrolled (X once, the withdrawn one not), completion
        # records (X's two count twice), valid certificates, companies of those who completed
        "AAA": dict(courses=2, enrolled=3, completions=3, certified=1, companies_reached=2),
        "BBB": dict(courses=1, enrolled=1, completions=1, certified=1, companies_reached=1),
        "CCC": dict(courses=0, enrolled=0, completions=0, certified=0, companies_reached=0),
    }
    cells = page(response).select_one("#progress tr[data-code=AAA]").select("td")
    assert [c.get_text(strip=True) for c in cells[:3]] == ["AAA", "山东理工大学", "淄博"]


def test_the_figures_follow_new_records(admin, session, three):
    a, _b, c = three
    course = make_course(session, c)
    enrollment, _ = make_enrollment(session, course)
    make_completion(session, enrollment, course)
    session.commit()
    figures = _figures(admin.get("/admin/universities"))
    assert figures["CCC"] == dict(
        courses=1, enrolled=1, completions=1, certified=0, companies_reached=1
    )
    assert figures["AAA"]["completions"] == 3


@pytest.mark.parametrize(
    ("column", "ascending"),
    [
        ("code", ["AAA", "BBB", "CCC"]),
        ("name", ["AAA", "CCC", "BBB"]),  # 山 U+5C71, 德 U+5FB7, 青 U+9752
        ("city", ["BBB", "AAA", "CCC"]),  # 3702 青岛, 3703 淄博, 3714 德州
        ("courses", ["CCC", "BBB", "AAA"]),
        ("enrolled", ["CCC", "BBB", "AAA"]),
        ("completions", ["CCC", "BBB", "AAA"]),
        ("companies", ["CCC", "BBB", "AAA"]),
    ],
)
def test_every_column_sorts_both_ways(admin, three, column, ascending):
    up = admin.get(f"/admin/universities?sort={column}&dir=asc")
    down = admin.get(f"/admin/universities?sort={column}&dir=desc")
    assert _codes(up) == ascending
    assert _codes(down) == list(reversed(ascending))
    heading = page(up).select_one(f"th[data-column={column}]")
    assert heading["aria-sort"] == "ascending"
    assert page(down).select_one(f"th[data-column={column}]")["aria-sort"] == "descending"
    assert len(page(up).select("th[aria-sort]")) == 1
    # Its heading's link reverses the order; the page says what it is sorted by.
    assert heading.select_one("a")["href"] == f"/admin/universities?sort={column}&dir=desc"
    assert text(up, "#sorted-by").startswith("按")


def test_ties_keep_the_code_order(admin, three):
    # A and B have one valid certificate each: A before B whichever way the column sorts.
    assert _codes(admin.get("/admin/universities?sort=certified&dir=desc")) == ["AAA", "BBB", "CCC"]
    assert _codes(admin.get("/admin/universities?sort=certified&dir=asc")) == ["CCC", "AAA", "BBB"]


def test_a_columns_link_starts_in_its_natural_order(admin, three):
    response = admin.get("/admin/universities", headers=ENGLISH)
    assert text(response, "#sorted-by") == "Sorted by Code, A to Z"
    links = {
        th["data-column"]: th.select_one("a")["href"]
        for th in page(response).select("th[data-column]")
    }
    assert links["code"].endswith("sort=code&dir=desc")  # the sorted one: reversed
    assert links["name"].endswith("sort=name&dir=asc")  # names A to Z first
    assert links["enrolled"].endswith("sort=enrolled&dir=desc")  # figures largest first
    largest = admin.get(links["enrolled"], headers=ENGLISH)
    assert _codes(largest) == ["AAA", "BBB", "CCC"]
    assert text(largest, "#sorted-by") == "Sorted by Trainees enrolled, largest first"


@pytest.mark.parametrize("query", ["sort=password&dir=asc", "sort=enrolled&dir=sideways", "dir=x"])
def test_an_order_not_offered_shows_the_table(admin, three, query):
    response = admin.get(f"/admin/universities?{query}")
    assert response.status_code == 200 and len(_codes(response)) == 3
    if query.startswith("sort=enrolled"):  # the column kept, in its natural order
        assert page(response).select_one("th[data-column=enrolled]")["aria-sort"] == "descending"
    else:
        assert _codes(response) == ["AAA", "BBB", "CCC"]


def test_figures_named_and_defined_as_everywhere(admin, three):
    response = admin.get("/admin/universities", headers=ENGLISH)
    for key in FIGURES_SHOWN:
        heading = page(response).select_one(f"th small.definition[data-figure={key}]")
        assert heading is not None, key
        assert heading.get_text(strip=True) == FIGURES[key].definition
        assert FIGURES[key].name in heading.parent.get_text(" ", strip=True)
    chinese = admin.get("/admin/universities")
    assert "报名学员" in text(chinese, "th[data-column=enrolled]")


def test_linked_from_the_administration_for_administrators_only(admin, staff_a, client, three):
    links = [a["href"] for a in page(admin.get("/admin")).select("a[href]")]
    assert "/admin/universities" in links
    assert staff_a.get("/admin/universities").status_code == 403
    anonymous = client.get("/admin/universities", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
