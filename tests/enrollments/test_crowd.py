"""A popular course opening: many people enrolling at the same moment, in real threads
through the app (the race of the seat on SQLite's one writer and on PostgreSQL's row locks),
and the home page they land on."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import func, select

from app.courses.models import Course
from app.enrollments.models import Enrollment
from tests.factories import make_company, make_course, make_university, new_id_number
from tests.html import texts

CAPACITY, PEOPLE = 5, 24


def _at_once(count: int, send) -> list:
    """count calls of send(n) in as many threads, released together."""
    start = threading.Barrier(count)

    def one(n: int):
        start.wait()
        return send(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _body(course, company, id_number: str) -> dict:
    return {
        "course_code": course.code,
        "name": "李䶮",
        "id_number": id_number,
        "mobile": "13800138000",
        "company_uscc": company.uscc if company else None,
        "consent": True,
    }


def _enrolled(new_session, course) -> tuple[int, int]:
    with new_session() as s:
        count = s.exec(
            select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id)
        ).one()
        return count, s.get_one(Course, course.id).seats_taken


def test_the_last_seats_go_to_exactly_as_many_people(client, session, new_session):
    course = make_course(session, make_university(session), capacity=CAPACITY)
    company = make_company(session)
    ids = [new_id_number() for _ in range(PEOPLE)]
    answers = _at_once(
        PEOPLE,
        lambda n: client.post("/api/v1/enrollments", json=_body(course, company, ids[n])),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * CAPACITY + [409] * (PEOPLE - CAPACITY)
    assert {a.json()["detail"] for a in answers if a.status_code == 409} == {"这门课程已满"}
    assert _enrolled(new_session, course) == (CAPACITY, CAPACITY)


def test_the_page_and_the_api_racing_for_the_seats(client, session, new_session):
    course = make_course(session, make_university(session), capacity=CAPACITY)
    company = make_company(session)
    ids = [new_id_number() for _ in range(PEOPLE)]
    token = client.get(f"/courses/{course.code}").text.split('name="csrf_token" value="')[1]
    token = token.split('"')[0]

    def send(n: int):
        if n % 2:
            return client.post("/api/v1/enrollments", json=_body(course, company, ids[n]))
        form = {
            "csrf_token": token,
            "name": "李䶮",
            "id_number": ids[n],
            "mobile": "13800138000",
            "email": "",
            "company_known": company.uscc,
            "company_uscc": "",
            "company_name": "",
            "consent": "yes",
        }
        return client.post(f"/courses/{course.code}/enroll", data=form, follow_redirects=False)

    answers = _at_once(PEOPLE, send)
    taken = [a for a in answers if a.status_code in (201, 303)]
    assert len(taken) == CAPACITY
    assert all(a.status_code == 409 for a in answers if a not in taken)
    assert _enrolled(new_session, course) == (CAPACITY, CAPACITY)


def test_one_id_number_sent_many_times_at_once_takes_one_seat(client, session, new_session):
    course = make_course(session, make_university(session), capacity=CAPACITY)
    company = make_company(session)
    id_number = new_id_number()
    answers = _at_once(
        8, lambda n: client.post("/api/v1/enrollments", json=_body(course, company, id_number))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert _enrolled(new_session, course) == (1, 1)


def test_many_new_employers_and_trainees_at_once(client, session, new_session):
    """Each request also registers its trainee and, for some, the same new company: the
    writes that come before the seat stay consistent under the race."""
    import random

    from app.companies.validators import fake_uscc

    course = make_course(session, make_university(session), capacity=100)
    uscc = fake_uscc(random.Random(11), region="370200")

    def send(n: int):
        body = {**_body(course, None, new_id_number()), "company_uscc": uscc}
        return client.post(
            "/api/v1/enrollments", json={**body, "company_name": "青岛某服饰有限公司"}
        )

    answers = _at_once(12, send)
    created = sum(a.status_code == 201 for a in answers)
    # SQLite's rare double first insert of one company fails the later request whole
    # (app.db.add_or_get); the seat count still equals the enrollments.
    assert created >= 1 and all(a.status_code in (201, 409) for a in answers)
    assert _enrolled(new_session, course) == (created, created)


def test_the_home_page_shows_a_saved_plan_and_a_new_course_at_once(admin, anonymous, session):
    assert texts(anonymous.get("/"), ".goal-count")[2].endswith(" / 5000")
    plan = {
        "universities": "60",
        "companies": "600",
        "talents": "6000",
        "starts_on": "2026-03-01",
        "ends_on": "2028-02-29",
        "csrf_token": admin.csrf("/admin/goals"),
    }
    assert admin.post("/admin/goals", data=plan, follow_redirects=False).status_code == 303
    assert texts(anonymous.get("/"), ".goal-count")[2].endswith(" / 6000")
    course = make_course(session, make_university(session), title="刚发布的数字化课程")
    assert course.title in anonymous.get("/").text
