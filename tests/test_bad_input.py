"""Bad input gets a clear 4xx in the user's language, never a 500 (found in review)."""

from tests import files
from tests.factories import (
    csrf_of,
    login,
    make_company,
    make_course,
    make_listed_company,
    make_university,
    make_user,
)
from tests.html import field_errors, text


def test_nul_in_a_path_is_not_found(client):
    assert client.get("/courses/%00").status_code == 404
    assert client.get("/enrollments/%00").status_code == 404


def test_control_characters_in_forms_and_json_are_field_errors(client, session):
    course = make_course(session, make_university(session))
    response = client.post(
        "/login", data={"email": "a\x00@b.cn", "password": "x", "csrf_token": csrf_of(client)}
    )
    assert response.status_code == 422
    api = client.post(
        "/api/v1/enrollments",
        json={
            "course_code": course.code,
            "name": "张三",
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
            "company_uscc": make_company(session).uscc,
            "company_name": "坏\x00公司",
            "consent": True,
        },
    )
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "company_name"


def test_upload_batch_ids_out_of_range_are_422_not_500(staff_a):
    assert staff_a.get("/staff/uploads/2147483648").status_code == 422
    assert staff_a.get(f"/staff/uploads/{2**63}").status_code == 422


def test_missing_columns_are_named_in_the_message(staff_a):
    response = staff_a.post(
        "/staff/uploads",
        data={"csrf_token": staff_a.csrf("/staff/uploads")},
        files={"file": ("a.csv", "foo,bar\r\n1,2\r\n".encode("gbk"))},
    )
    assert response.status_code == 422 and "%(" not in response.text and "身份证号" in response.text


def test_an_unknown_encoding_choice_is_refused(staff_a):
    response = staff_a.post(
        "/staff/uploads",
        data={"csrf_token": staff_a.csrf("/staff/uploads"), "encoding": "rot13"},
        files={"file": ("a.csv", files.gbk_csv([]))},
    )
    assert response.status_code == 422


def test_staff_account_for_a_missing_university(admin):
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf("/admin"),
            "email": "t@x.edu.cn",
            "password": "a-long-password",
            "university_id": "999999",
        },
    )
    assert response.status_code == 422 and "university_id" in field_errors(response)


def test_language_switch_never_leaves_the_site(client):
    for referer in ("https://evil.example//evil.example/x", "https://evil.example/\\evil.example"):
        response = client.get("/lang/en", headers={"referer": referer}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_framework_errors_are_translated(client):
    chinese = client.get("/logout")
    assert chinese.status_code == 405 and text(chinese, "main p.error") == "该地址不接受此类请求"
    english = client.get("/logout", headers={"Accept-Language": "en"})
    # Our message, not Starlette's "Method Not Allowed".
    assert text(english, "main p.error") == "This address does not accept this kind of request"


def test_duplicate_course_code_is_shown_beside_the_field(client, session):
    university = make_university(session)
    make_course(session, university, code="DUP-01")
    login(client, make_user(session, university=university))
    response = client.post(
        "/staff/courses/new",
        data={
            "csrf_token": csrf_of(client, "/staff/courses/new"),
            "code": "DUP-01",
            "title": "重复课程",
            "contact_phone": "0531-89631234",
            "hours": "8",
            "capacity": "10",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 422 and "code" in field_errors(response)
    assert 'value="重复课程"' in response.text


def test_enrollment_cannot_close_after_the_course_ends(staff_a):
    response = staff_a.post(
        "/staff/courses/new",
        data={
            "csrf_token": staff_a.csrf("/staff/courses/new"),
            "code": "LATE-01",
            "title": "课程",
            "hours": "8",
            "capacity": "10",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "enroll_closes_on": "2027-01-15",
        },
    )
    assert response.status_code == 422


def test_chosen_company_is_kept_after_an_error(client, session):
    course = make_course(session, make_university(session))
    company = make_listed_company(session)
    response = client.post(
        f"/courses/{course.code}/enroll",
        data={
            "csrf_token": csrf_of(client),
            "name": "",
            "id_number": "",
            "mobile": "",
            "company_known": company.uscc,
            "consent": "yes",
        },
    )
    assert response.status_code == 422
    assert f'value="{company.uscc}" checked' in response.text  # the search step's choice


def test_codes_are_one_whatever_their_case_and_blank_titles_are_refused(client, session):
    from app.auth import service as auth

    university = make_university(session, code="QLU")
    _, token = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    course = {
        "code": "qlu-2026-01",
        "title": "数字化印染工艺",
        "hours": 8,
        "capacity": 10,
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
    }
    created = client.post("/api/v1/courses", headers=headers, json=course)
    assert created.status_code == 201 and created.json()["code"] == "QLU-2026-01"
    again = client.post("/api/v1/courses", headers=headers, json={**course, "code": "QLU-2026-01"})
    assert again.status_code == 409
    blank = client.post(
        "/api/v1/courses", headers=headers, json={**course, "code": "X-1", "title": "   "}
    )
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "title"
    bidi = client.post(
        "/api/v1/courses",
        headers=headers,
        json={**course, "code": "X-2", "title": "课程\u202e反转"},
    )
    assert bidi.status_code == 422
    assert client.get("/courses/qlu-2026-01").status_code == 200


def test_only_companies_confirmed_by_a_completion_are_listed(client, session):
    listed = make_listed_company(session, name="山东如意毛纺服装集团")
    make_company(session, name="随便填的公司")  # registered by someone's form, never confirmed
    # The form lists the companies found by typing part of the name (issue 10).
    search = "/api/v1/companies/search"
    assert listed.name in client.get(search, params={"q": "如意毛纺"}).text
    assert client.get(search, params={"q": "随便填"}).json() == {"companies": []}


def test_course_end_date_error_is_beside_the_end_date(staff_a):
    response = staff_a.post(
        "/staff/courses/new",
        data={
            "csrf_token": staff_a.csrf("/staff/courses/new"),
            "code": "X-01",
            "title": "课程",
            "hours": "8",
            "capacity": "10",
            "starts_on": "2026-12-01",
            "ends_on": "2026-11-01",
        },
    )
    assert response.status_code == 422 and "ends_on" in field_errors(response)
