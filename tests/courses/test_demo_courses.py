"""The demo has what the issue's journey needs: a trainee in 潍坊 searching 数字化 finds an
open course there, and reads its details."""

from app import clock, demo
from app.courses import service as courses
from tests.html import text


def test_an_open_digital_course_in_weifang_with_its_details(settings, session, anonymous):
    demo.load(session, settings, trainees=60)
    today = clock.today()
    open_here = [
        course
        for course, _, _ in courses.list_open(session, today)
        if course.city_code == "3707"
        and courses.state_of(course, today) == "open"
        and "数字化" in f"{course.title}{course.description}"
    ]
    assert open_here
    course = open_here[0]
    assert course.contact_phone and course.schedule and course.audience and course.cluster
    facts = text(anonymous.get(f"/courses/{course.code}"), "dl.facts")
    assert "潍坊" in facts and course.contact_phone in facts
