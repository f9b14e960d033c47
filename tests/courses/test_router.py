from sqlmodel import select

from app.courses.models import Course
from tests.factories import csrf_of, login, make_course, make_enrollment, make_university, make_user


def test_staff_create_course_and_see_it(client, session):
    university = make_university(session)
    login(client, make_user(session, university=university))
    response = client.post(
        "/staff/courses/new",
        data={
            "csrf_token": csrf_of(client, "/staff/courses/new"),
            "code": "QLU-2026-01",
            "title": "数字化印染工艺",
            "hours": "32",
            "capacity": "40",
            "starts_on": "2100-03-01",
            "ends_on": "2100-06-30",
            "contact_phone": "0531-89631234",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200 and "数字化印染工艺" in response.text
    course = session.exec(select(Course).where(Course.code == "QLU-2026-01")).one()
    assert course.university_id == university.id


def test_course_form_errors_beside_fields(client, session):
    login(client, make_user(session, university=make_university(session)))
    response = client.post(
        "/staff/courses/new",
        data={
            "csrf_token": csrf_of(client, "/staff/courses/new"),
            "code": "坏 代码",
            "title": "",
            "hours": "abc",
            "capacity": "0",
            "starts_on": "2026-06-01",
            "ends_on": "2026-05-01",
        },
    )
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


def test_the_catalog_links_to_each_course_page_with_its_form(anonymous, session):
    from tests.html import page, text

    course = make_course(session, make_university(session, name="齐鲁工业大学"))
    link = page(anonymous.get("/courses")).select_one("li.course h3 a")
    assert link is not None and link["href"] == f"/courses/{course.code}"
    response = anonymous.get(link["href"])
    assert response.status_code == 200 and text(response, "h1") == course.title
    assert "齐鲁工业大学" in text(response, "dl.facts")
    form = page(response).select_one("form.form")
    assert form is not None and form["action"] == f"/courses/{course.code}/enroll"


def test_a_course_page_is_found_by_its_code_in_any_case(anonymous, session):
    make_course(session, make_university(session), code="QLU-2026-07")
    assert anonymous.get("/courses/qlu-2026-07").status_code == 200
    assert anonymous.get("/courses/QLU-2026-08").status_code == 404
