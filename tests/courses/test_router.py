from sqlmodel import select

from app.courses.models import Course
from tests.factories import csrf_of, login, make_course, make_enrollment, make_university, make_user


def test_staff_create_course_and_see_it(client, session):
    university = make_university(session)
    login(client, make_user(session, university=university))
    response = client.post("/staff/courses/new", data={
        "csrf_token": csrf_of(client, "/staff/courses/new"), "code": "QLU-2026-01",
        "title": "数字化印染工艺", "hours": "32", "capacity": "40",
        "starts_on": "2026-03-01", "ends_on": "2026-06-30"}, follow_redirects=True)
    assert response.status_code == 200 and "数字化印染工艺" in response.text
    course = session.exec(select(Course).where(Course.code == "QLU-2026-01")).one()
    assert course.university_id == university.id


def test_course_form_errors_beside_fields(client, session):
    login(client, make_user(session, university=make_university(session)))
    response = client.post("/staff/courses/new", data={
        "csrf_token": csrf_of(client, "/staff/courses/new"), "code": "坏 代码", "title": "",
        "hours": "abc", "capacity": "0", "starts_on": "2026-06-01", "ends_on": "2026-05-01"})
    assert response.status_code == 422
    for name in ("code", "title", "hours", "capacity"):
        assert f'id="e-{name}"' in response.text
    assert 'value="坏 代码"' in response.text
    assert session.exec(select(Course)).first() is None


def test_staff_see_only_their_own_university(client, session):
    mine, theirs = make_university(session), make_university(session)
    other_course = make_course(session, theirs, title="别人的课程")
    make_enrollment(session, other_course, name="王小明")
    login(client, make_user(session, university=mine))
    assert "别人的课程" not in client.get("/staff").text
    response = client.get(f"/staff/courses/{other_course.code}")
    assert response.status_code == 404 and "王小明" not in response.text


def test_staff_course_page_masks_id_numbers(client, session):
    university = make_university(session)
    course = make_course(session, university)
    _, id_number = make_enrollment(session, course, name="𠮷田")
    login(client, make_user(session, university=university))
    page = client.get(f"/staff/courses/{course.code}").text
    assert "𠮷田" in page and id_number not in page and id_number[-4:] in page
