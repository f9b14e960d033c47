from sqlmodel import select

from app.auth.models import User
from app.universities.models import University
from tests.factories import csrf_of, login, make_university
from tests.html import field_errors


def test_admin_adds_university_and_staff_account(admin, new_client, session):
    response = admin.post(
        "/admin/universities",
        data={
            "csrf_token": admin.csrf("/admin"),
            "code": "SDUT",
            "name": "山东理工大学",
            "city_code": "3703",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200 and "山东理工大学" in response.text
    university = session.exec(select(University).where(University.code == "SDUT")).one()
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf("/admin"),
            "email": "Teacher@SDUT.edu.cn",
            "password": "a-long-password",
            "university_id": str(university.id),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    staff = session.exec(select(User).where(User.email == "teacher@sdut.edu.cn")).one()
    assert staff.role == "staff" and staff.password_hash.startswith("$argon2")
    teacher = new_client()
    login(teacher, staff, password="a-long-password")
    assert "山东理工大学" in teacher.get("/staff").text
    accounts = admin.get("/admin").text.split('class="accounts"')[1]
    assert "teacher@sdut.edu.cn" in accounts and "山东理工大学" in accounts


def test_admin_form_errors_beside_fields(admin, session):
    existing = make_university(session, code="QLU")
    response = admin.post(
        "/admin/universities",
        data={
            "csrf_token": admin.csrf("/admin"),
            "code": "QLU",
            "name": "重复",
            "city_code": "3701",
        },
    )
    assert response.status_code == 422 and "code" in field_errors(response)
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf("/admin"),
            "email": "not-an-email",
            "password": "short",
            "university_id": str(existing.id),
        },
    )
    assert response.status_code == 422
    assert "email" in field_errors(response) and "password" in field_errors(response)
    assert (
        'value="not-an-email"' in response.text and "short" not in response.text.split("<main>")[1]
    )


def test_staff_cannot_post_admin_forms(staff_a):
    response = staff_a.post(
        "/admin/universities",
        data={"csrf_token": staff_a.csrf("/staff"), "code": "X", "name": "X", "city_code": "3701"},
    )
    assert response.status_code == 403


def test_admin_corrects_a_name_so_the_person_can_enroll(admin, new_client, session):
    from app.trainees.models import Trainee
    from tests.factories import make_company, make_course, make_enrollment

    course, other = (make_course(session, make_university(session)) for _ in range(2))
    enrollment, id_number = make_enrollment(session, course, name="王小民")  # mistyped
    wrong_id = admin.post(
        "/admin/trainees/name",
        data={
            "csrf_token": admin.csrf("/admin"),
            "id_number": "11010519491231002X",
            "name": "王小明",
        },
    )
    assert wrong_id.status_code == 422 and "id_number" in field_errors(wrong_id)
    done = admin.post(
        "/admin/trainees/name",
        data={"csrf_token": admin.csrf("/admin"), "id_number": id_number, "name": "王小明"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and id_number not in done.text
    assert session.get(Trainee, enrollment.trainee_id).name == "王小明"
    person = new_client()
    response = person.post(
        f"/courses/{other.code}/enroll",
        data={
            "csrf_token": csrf_of(person),
            "name": "王小明",
            "id_number": id_number,
            "mobile": "13800138000",
            "company_uscc": make_company(session).uscc,
            "consent": "yes",
        },
    )
    assert response.status_code == 200


def test_staff_cannot_correct_names(staff_a):
    response = staff_a.post(
        "/admin/trainees/name",
        data={
            "csrf_token": staff_a.csrf("/staff"),
            "id_number": "11010519491231002X",
            "name": "某",
        },
    )
    assert response.status_code == 403


def test_admin_page_title_is_plain_text(admin):
    head = admin.get("/admin").text.split("</head>")[0]
    assert "<form" not in head and "<title>管理后台 · " in head
