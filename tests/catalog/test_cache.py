"""The catalog keeps its results a few seconds (app/catalog/cache.py): never another user's
page, and never behind what this instance itself wrote."""

from tests.factories import make_course, make_enrollment, make_university
from tests.html import page, texts


def _seats(client) -> list[str]:
    return texts(client.get("/courses"), "li.course .seats")


def test_a_seat_taken_here_shows_at_once(client, session):
    course = make_course(session, make_university(session), capacity=2)
    assert _seats(client) == ["剩余名额：2"]
    make_enrollment(session, course)
    assert _seats(client) == ["剩余名额：1"]
    assert client.get("/api/v1/courses").json()[0]["seats_left"] == 1
    make_enrollment(session, course)
    assert client.get("/api/v1/courses", params={"seats": "1"}).json() == []


def test_a_course_added_here_is_listed_at_once(client, session):
    university = make_university(session)
    make_course(session, university, code="FIRST")
    assert [c["code"] for c in client.get("/api/v1/courses").json()] == ["FIRST"]
    make_course(session, university, code="SECOND")
    assert sorted(c["code"] for c in client.get("/api/v1/courses").json()) == ["FIRST", "SECOND"]


def test_the_cached_list_carries_nobody_else_s_page(staff_a, anonymous, session, university_a):
    make_course(session, university_a)
    staff_page = page(staff_a.get("/courses"))
    assert staff_page.select_one("header form[action='/logout']") is not None
    shown = page(anonymous.get("/courses"))
    assert shown.select_one("header form[action='/logout']") is None
    assert shown.select("li.course") and shown.select_one("a[href='/login']") is not None
