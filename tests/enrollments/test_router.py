import random
import re
from datetime import timedelta

from sqlmodel import select

from app import clock
from app.enrollments.models import Enrollment
from app.trainees.models import Trainee
from tests.factories import (
    csrf_of,
    make_company,
    make_course,
    make_enrollment,
    make_university,
    new_id_number,
)


def _form(client, course, **overrides):
    # The token comes from the login page: a full course's page has no form to read it from.
    data = {
        "csrf_token": csrf_of(client),
        "name": "李䶮",
        "id_number": new_id_number(),
        "mobile": "138 0013 8000",
        "email": "",
        "company_known": "",
        "company_uscc": "",
        "company_name": "",
        "consent": "yes",
    }
    return {**data, **overrides}


def test_catalog_lists_open_courses_with_seats(client, session):
    course = make_course(session, make_university(session, name="齐鲁工业大学"), capacity=20)
    closed = make_course(session, make_university(session), is_open=False, title="已关闭课程")
    page = client.get("/courses")
    assert course.title in page.text and "齐鲁工业大学" in page.text and "20" in page.text
    assert closed.title not in page.text


def test_enroll_through_the_form(client, session):
    course = make_course(session, make_university(session))
    company = make_company(session)
    id_number = new_id_number()
    response = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, id_number=id_number, company_known=company.uscc),
        follow_redirects=True,
    )
    assert response.status_code == 200
    number = re.search(r'id="enrollment-no">(\w+)<', response.text).group(1)
    assert "李*" in response.text  # masked holder name
    enrollment = session.exec(select(Enrollment).where(Enrollment.enrollment_no == number)).one()
    trainee = session.get(Trainee, enrollment.trainee_id)
    assert trainee.name == "李䶮" and trainee.id_masked == id_number[:3] + "*" * 11 + id_number[-4:]
    assert id_number not in trainee.id_encrypted and enrollment.company_id == company.id
    assert enrollment.consent_channel == "web" and enrollment.consent_version


def test_new_company_by_uscc_and_name(client, session):
    import random

    from app.companies.validators import fake_uscc

    course = make_course(session, make_university(session))
    uscc = fake_uscc(random.Random(5), region="370200")
    response = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, company_uscc=uscc, company_name="青岛某服饰有限公司"),
    )
    assert response.status_code == 200 and "enrollment-no" in response.text
    from app.companies.models import Company

    company = session.exec(select(Company).where(Company.uscc == uscc)).one()
    assert company.city_code == "3702"


def test_field_errors_shown_beside_fields_and_input_kept(client, session):
    course = make_course(session, make_university(session))
    response = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, id_number="11010519491231002Y", mobile="12345", consent=""),
    )
    assert response.status_code == 422
    assert 'id="e-id_number"' in response.text and 'id="e-mobile"' in response.text
    assert 'id="e-consent"' in response.text
    assert 'value="李䶮"' in response.text  # what the user typed is kept
    assert session.exec(select(Enrollment)).first() is None


def test_missing_employer_is_a_field_error(client, session):
    course = make_course(session, make_university(session))
    response = client.post(f"/courses/{course.code}/enroll", data=_form(client, course))
    # The code is optional now (a name alone will do): the name is the field asked for.
    assert response.status_code == 422 and 'id="e-company_name"' in response.text


def test_unknown_uscc_without_name_asks_for_the_name(client, session):
    import random

    from app.companies.validators import fake_uscc

    course = make_course(session, make_university(session))
    response = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, company_uscc=fake_uscc(random.Random(9))),
    )
    assert response.status_code == 422 and 'id="e-company_name"' in response.text


def test_same_id_number_twice_gets_a_friendly_message(client, session):
    course = make_course(session, make_university(session))
    company = make_company(session)
    id_number = new_id_number()
    first = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, id_number=id_number, company_known=company.uscc),
    )
    assert first.status_code == 200
    second = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, id_number=id_number, company_known=company.uscc),
    )
    assert second.status_code == 409
    assert 'class="notice"' in second.text and "<form" in second.text
    assert len(session.exec(select(Enrollment)).all()) == 1
    session.refresh(course)
    assert course.seats_taken == 1


def test_full_course_refuses(client, session):
    course = make_course(session, make_university(session), capacity=1)
    company = make_company(session)
    assert (
        client.post(
            f"/courses/{course.code}/enroll", data=_form(client, course, company_known=company.uscc)
        ).status_code
        == 200
    )
    page = client.get(f"/courses/{course.code}")
    assert "这门课程已满" in page.text and 'name="id_number"' not in page.text
    response = client.post(
        f"/courses/{course.code}/enroll", data=_form(client, course, company_known=company.uscc)
    )
    assert response.status_code == 409 and "这门课程已满" in response.text
    assert len(session.exec(select(Enrollment)).all()) == 1


def test_closed_course_refuses(client, session):
    course = make_course(
        session, make_university(session), enroll_closes_on=clock.today() - timedelta(days=1)
    )
    company = make_company(session)
    response = client.post(
        f"/courses/{course.code}/enroll", data=_form(client, course, company_known=company.uscc)
    )
    assert response.status_code == 409
    assert session.exec(select(Enrollment)).first() is None


def test_form_without_csrf_token_is_refused(client, session):
    course = make_course(session, make_university(session))
    data = _form(client, course)
    data["csrf_token"] = "forged"
    response = client.post(f"/courses/{course.code}/enroll", data=data)
    assert response.status_code == 403
    assert session.exec(select(Enrollment)).first() is None


def test_unknown_course_is_404_page(client):
    response = client.get("/courses/NOPE")
    assert response.status_code == 404 and "<html" in response.text


def test_names_tried_against_a_known_id_number_are_limited(client, session):
    course = make_course(session, make_university(session), capacity=1)
    other = make_course(session, make_university(session))
    company = make_company(session)
    _, id_number = make_enrollment(session, course, name="李䶮", company=company)
    # A full course answers "full" whatever the name: it tells nothing about the ID number.
    full = client.post(
        f"/courses/{course.code}/enroll",
        data=_form(client, course, name="王五", id_number=id_number, company_known=company.uscc),
    )
    assert full.status_code == 409
    _wrong_names(client, other, id_number, company, 9)
    assert (
        client.post(
            f"/courses/{other.code}/enroll",
            data=_form(client, other, name="赵六", id_number=id_number, company_known=company.uscc),
        ).status_code
        == 429
    )


def _wrong_names(client, course, id_number, company, count):
    for n in range(count):
        wrong = client.post(
            f"/courses/{course.code}/enroll",
            data=_form(
                client,
                course,
                name=f"王{'一二三四五六七八九十'[n]}",
                id_number=id_number,
                company_known=company.uscc,
            ),
        )
        assert wrong.status_code == 422 and 'id="e-name"' in wrong.text


def test_over_the_limit_every_answer_is_the_same_whatever_the_name(client, session):
    """No oracle: past the limit the right name, an enrolled one and a stranger's all get 429."""
    taken, other = (make_course(session, make_university(session)) for _ in range(2))
    company = make_company(session)
    _, id_number = make_enrollment(session, taken, name="李䶮", company=company)
    _wrong_names(client, other, id_number, company, 10)
    right_name_enrolled = client.post(
        f"/courses/{taken.code}/enroll",
        data=_form(client, taken, id_number=id_number, company_known=company.uscc),
    )
    right_name_new_course = client.post(
        f"/courses/{other.code}/enroll",
        data=_form(client, other, id_number=id_number, company_known=company.uscc),
    )
    unregistered = client.post(
        f"/courses/{other.code}/enroll",
        data=_form(client, other, id_number=new_id_number(), company_known=company.uscc),
    )
    answers = {
        (r.status_code, re.sub(r'name="csrf_token" value="[^"]*"', "", r.text))
        for r in (right_name_enrolled, right_name_new_course, unregistered)
    }
    assert len(answers) == 1 and answers.pop()[0] == 429
    assert session.exec(select(Enrollment).where(Enrollment.course_id == other.id)).all() == []


def test_every_attempt_counts_not_only_wrong_names(client, session):
    courses = [make_course(session, make_university(session)) for _ in range(11)]
    company = make_company(session)
    id_number = new_id_number()
    # Eleven tries with the right name: ten answer, the eleventh is refused like any other.
    answers = [
        client.post(
            f"/courses/{c.code}/enroll",
            data=_form(client, c, id_number=id_number, company_known=company.uscc),
        ).status_code
        for c in courses
    ]
    assert answers == [200] * 10 + [429]


def test_names_guessed_from_many_addresses_are_limited_per_id_number(web_app, session):
    from fastapi.testclient import TestClient

    course, other = (make_course(session, make_university(session)) for _ in range(2))
    company = make_company(session)
    id_number = new_id_number()
    make_enrollment(session, course, name="李䶮", id_number=id_number, company=company)
    clients = [
        TestClient(web_app, base_url="http://testserver", client=(f"10.0.0.{n}", 5000))
        for n in range(11)
    ]
    for n in range(10):
        assert (
            clients[n]
            .post(
                f"/courses/{other.code}/enroll",
                data=_form(
                    clients[n],
                    other,
                    name="王" + "一二三四五六七八九十"[n],
                    id_number=id_number,
                    company_known=company.uscc,
                ),
            )
            .status_code
            == 422
        )
    assert (
        clients[10]
        .post(
            f"/courses/{other.code}/enroll",
            data=_form(clients[10], other, id_number=id_number, company_known=company.uscc),
        )
        .status_code
        == 429
    )


def test_api_over_the_limit_refuses_the_right_name_too(client, session):
    course, other = (make_course(session, make_university(session)) for _ in range(2))
    company = make_company(session)
    id_number = new_id_number()
    make_enrollment(session, course, name="李䶮", id_number=id_number, company=company)
    body = {
        "course_code": course.code,
        "name": "李䶮",
        "id_number": id_number,
        "mobile": "13800138000",
        "company_uscc": company.uscc,
        "consent": True,
    }
    for n in range(10):
        assert (
            client.post(
                "/api/v1/enrollments",
                json={**body, "course_code": other.code, "name": "王" + "一二三四五六七八九十"[n]},
            ).status_code
            == 422
        )
    assert client.post("/api/v1/enrollments", json=body).status_code == 429
    assert (
        client.post("/api/v1/enrollments", json={**body, "course_code": other.code}).status_code
        == 429
    )


def test_latin_names_match_whatever_their_case(client, session):
    course, other = (make_course(session, make_university(session)) for _ in range(2))
    company = make_company(session)
    id_number = new_id_number()
    for c, name in ((course, "Anna Schmidt"), (other, "anna schmidt")):
        response = client.post(
            f"/courses/{c.code}/enroll",
            data=_form(client, c, name=name, id_number=id_number, company_known=company.uscc),
        )
        assert response.status_code == 200


def test_one_address_cannot_lock_the_holder_out(client, web_app, session):
    from fastapi.testclient import TestClient

    course, other = (make_course(session, make_university(session)) for _ in range(2))
    company = make_company(session)
    _, id_number = make_enrollment(session, course, name="李䶮", company=company)
    _wrong_names(client, other, id_number, company, 10)
    for _ in range(5):  # trying on after the limit keeps only this address out
        assert (
            client.post(
                f"/courses/{other.code}/enroll",
                data=_form(
                    client, other, name="王五", id_number=id_number, company_known=company.uscc
                ),
            ).status_code
            == 429
        )
    holder = TestClient(web_app, base_url="http://testserver", client=("192.0.2.78", 5000))
    assert (
        holder.post(
            f"/courses/{other.code}/enroll",
            data=_form(holder, other, id_number=id_number, company_known=company.uscc),
        ).status_code
        == 200
    )


def test_one_address_cannot_take_every_seat_of_a_course(client, web_app, session):
    from fastapi.testclient import TestClient

    from app.enrollments.router import ATTEMPTS_PER_COURSE_AND_ADDRESS as LIMIT

    course = make_course(session, make_university(session), capacity=LIMIT + 10)
    company = make_company(session)
    body = {
        "course_code": course.code,
        "name": "张三",
        "mobile": "13800138000",
        "company_uscc": company.uscc,
        "consent": True,
    }
    answers = [
        client.post("/api/v1/enrollments", json={**body, "id_number": new_id_number()}).status_code
        for _ in range(LIMIT + 1)
    ]
    assert answers == [201] * LIMIT + [429]
    colleague = TestClient(web_app, base_url="http://testserver", client=("192.0.2.9", 5000))
    assert (
        colleague.post(
            "/api/v1/enrollments", json={**body, "id_number": new_id_number()}
        ).status_code
        == 201
    )


def test_an_unknown_employer_is_refused_alike_for_registered_and_unregistered_numbers(
    client, session
):
    from app.companies.validators import fake_uscc

    course, other = (make_course(session, make_university(session)) for _ in range(2))
    _, registered = make_enrollment(session, course, name="李䶮")
    unknown = fake_uscc(random.Random(3))
    answers = []
    for id_number in (registered, new_id_number()):
        response = client.post(
            "/api/v1/enrollments",
            json={
                "course_code": other.code,
                "name": "王五",
                "id_number": id_number,
                "mobile": "13800138000",
                "company_uscc": unknown,
                "consent": True,
            },
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert answers[0][1]["errors"][0]["field"] == "company_name"


def test_the_confirmation_shows_the_course_its_university_and_the_masked_name(client, session):
    from tests.html import text

    course = make_course(session, make_university(session, name="齐鲁工业大学"))
    company = make_company(session)
    done = client.post(
        f"/courses/{course.code}/enroll", data=_form(client, course, company_known=company.uscc)
    )
    facts = text(done, "dl.facts")
    assert course.title in facts and "齐鲁工业大学" in facts and "李*" in facts
    assert "李䶮" not in done.text
    number = text(done, "#enrollment-no")
    assert client.get(f"/enrollments/{number.lower()}").status_code == 200
    assert client.get("/enrollments/BM26XXXXXXXX").status_code == 404
