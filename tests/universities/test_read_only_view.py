"""An administrator opens a university's staff pages read-only: the pages its staff see, with a
banner and every form disabled; every POST in its name refused; the view audited, and so is
every download with full ID numbers; staff scoping unchanged; the view bound to the login."""

from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from app import clock
from app.audit.models import AuditEvent
from app.auth.models import ApiToken, User
from app.certificates.models import Certificate
from app.companies.models import Company
from app.completions.models import Completion, CompletionBatch
from app.courses.models import Course
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment, EnrollmentCreate
from app.jobs.models import Job
from app.universities.models import University
from tests import files
from tests.certificates import issued
from tests.completions.uploads import upload_and_save
from tests.factories import (
    csrf_of,
    login,
    make_company,
    make_course,
    make_enrollment,
    make_user,
    new_id_number,
)
from tests.html import flash, page, text

DONE = (clock.today() - timedelta(days=1)).isoformat()
REFUSED = "不能做任何修改"  # "nothing can be changed", the 403's message in Chinese


@pytest.fixture
def world(session, staff_a, staff_b, university_a, university_b):
    """University A: four trainees; an upload saved and certified, one saved without
    certificates, a preview not saved (with a row in error). University B: a course."""
    course = make_course(session, university_a, code="A-VIEW-01", title="服装数字化设计")
    make_course(session, university_b, code="B-VIEW-01", title="青岛大学的课程")
    ids = {n: make_enrollment(session, course, name=n)[1] for n in ("甲", "乙", "丙", "丁")}

    def rows(*names):
        return [[n, ids[n], course.code, DONE, "90"] for n in names]

    upload_and_save(staff_a.client, "first.xlsx", files.xlsx(rows("甲", "乙")))
    issued.issue(staff_a.client, course)
    upload_and_save(staff_a.client, "second.xlsx", files.xlsx(rows("丙")))
    stranger = ["某人", new_id_number(), course.code, DONE, "80"]  # not enrolled: an error row
    staff_a.post(
        "/staff/uploads",
        data={"csrf_token": staff_a.csrf("/staff/uploads")},
        files={"file": ("third.xlsx", files.xlsx([*rows("丁"), stranger]))},
    )
    batches = {
        b.filename: b
        for b in session.exec(
            select(CompletionBatch).where(CompletionBatch.university_id == university_a.id)
        )
    }
    certs = list(session.exec(select(Certificate).order_by(Certificate.id)))
    unconfirmed = _named_employer(session, course, "某某织造厂").company_id
    assert len(certs) == 2 and batches["third.xlsx"].state == "preview"
    return {
        "a": university_a,
        "b": university_b,
        "course": course,
        "certified": batches["first.xlsx"],
        "saved": batches["second.xlsx"],
        "preview": batches["third.xlsx"],
        "serial": certs[0].serial,
        "unconfirmed": unconfirmed,
    }


def _named_employer(session, course, name: str) -> Enrollment:
    """A trainee of the course who typed the employer's name alone: an unconfirmed company
    that the university's staff may match."""
    data = EnrollmentCreate(
        course_code=course.code,
        name="戊",
        id_number=new_id_number(),
        mobile="13900139000",
        company_name=name,
        consent=True,
    )
    enrollment = enrollments.enroll(session, data, channel="web", today=clock.today())
    session.commit()
    return enrollment


def start(admin, university):
    token = admin.csrf("/admin/universities")
    return admin.post(
        f"/admin/universities/{university.code}/view",
        data={"csrf_token": token},
        follow_redirects=False,
    )


@pytest.fixture
def viewer(admin, world):
    started = start(admin, world["a"])
    assert started.status_code == 303 and started.headers["location"] == "/staff"
    return admin


def _banner(response) -> str | None:
    found = page(response).select_one("#viewing-banner")
    return found.get_text(" ", strip=True) if found else None


def _enabled_forms(response) -> list[str]:
    """The POST forms of a page one can press: not the banner's, not logging out, and not
    inside a disabled fieldset."""
    return [
        form.get("action", "")
        for form in page(response).select("form[method=post]")
        if form.get("action") != "/logout"
        and form.find_parent(id="viewing-banner") is None
        and form.find_parent("fieldset", disabled=True) is None
    ]


def staff_pages(world) -> list[str]:
    course = world["course"].code
    return [
        "/staff",
        "/staff/courses/new",
        f"/staff/courses/{course}",
        f"/staff/courses/{course}/edit",
        f"/staff/courses/{course}/certificate",
        f"/staff/courses/{course}/certificates/preview",
        "/staff/uploads",
        f"/staff/uploads/{world['preview'].id}",
        f"/staff/uploads/{world['saved'].id}",
        f"/staff/certificates/{world['serial']}",
        f"/universities/{world['a'].code}/certificate",
        "/staff/goals",
        "/staff/prints",
        "/companies/unconfirmed",
        f"/companies/unconfirmed/{world['unconfirmed']}?q=纺织",
        "/jobs",
        "/tokens",
        "/account",
    ]


def test_the_administrator_sees_the_staff_pages_with_a_banner(viewer, staff_a, world):
    home = viewer.get("/staff")
    assert home.status_code == 200 and "A-VIEW-01" in home.text
    assert flash(home) == f"您正在以只读方式查看{world['a'].name}"
    assert _banner(home).startswith(f"正在只读查看：{world['a'].name}")
    course_page = viewer.get(f"/staff/courses/{world['course'].code}")
    assert course_page.text.count('type="checkbox" name="serial"') == 2  # as staff see it
    assert "first.xlsx" in text(viewer.get("/staff/uploads"), "table.history")
    for path in staff_pages(world):
        mine, theirs = viewer.get(path), staff_a.get(path)
        assert mine.status_code == theirs.status_code == 200, path
        assert _banner(mine) and not _banner(theirs), path
        if path != "/account":  # the one page about oneself: the administrator's own email
            assert text(mine, "main") == text(theirs, "main"), path


def test_every_form_is_disabled_while_staff_can_press_theirs(viewer, staff_a, world):
    pressable = 0
    for path in staff_pages(world):
        assert _enabled_forms(viewer.get(path)) == [], path
        pressable += len(_enabled_forms(staff_a.get(path)))
    assert pressable >= 12  # the same pages do have forms: upload, save, undo, print, revoke...


def test_another_universitys_pages_are_missing_as_for_its_staff(viewer, world):
    assert viewer.get("/staff/courses/B-VIEW-01").status_code == 404
    assert viewer.get(f"/universities/{world['b'].code}/certificate").status_code == 404
    assert "B-VIEW-01" not in viewer.get("/staff").text


def _snapshot(session) -> dict:
    session.expire_all()

    def count(model, *where):
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    a = session.exec(select(University)).all()
    return {
        "courses": count(Course),
        "universities": sorted((u.code, u.name_en, u.signatory_name) for u in a),
        "batches": sorted((b.id, b.state) for b in session.exec(select(CompletionBatch))),
        "completions": count(Completion),
        "certificates": sorted((c.serial, c.status) for c in session.exec(select(Certificate))),
        "enrollments": count(Enrollment),
        "jobs": count(Job),
        "users": count(User),
        "tokens": count(ApiToken),
        # The view's start and its refusals (security events) are audited; nothing else.
        "events": count(
            AuditEvent, col(AuditEvent.action).not_in(("university.view", "security.refused"))
        ),
        "course": session.exec(
            select(
                Course.title,
                Course.title_en,
                Course.capacity,
                Course.is_open,
                Course.enroll_closes_on,
            ).where(Course.code == "A-VIEW-01")
        ).one(),
        "companies": sorted((c.id, c.uscc) for c in session.exec(select(Company))),
        "employers": sorted((e.id, e.company_id) for e in session.exec(select(Enrollment))),
    }


def _every_post(world, session) -> list[tuple[str, dict, dict | None]]:
    """Every form a staff member (or an administrator) can post, with data that would work."""
    course, a, b = world["course"], world["a"], world["b"]
    serial = world["serial"]
    upload = {"file": ("new.xlsx", files.xlsx([["甲", new_id_number(), course.code, DONE, "1"]]))}
    company = make_company(session)
    token = ApiToken(token_hash="0" * 64, name="A's nightly", role="university", university_id=a.id)
    session.add(token)
    session.commit()
    return [
        ("/staff/uploads", {"kind": "completions"}, upload),
        (f"/staff/uploads/{world['preview'].id}/save", {}, None),
        (f"/staff/uploads/{world['preview'].id}/reread", {"encoding": ""}, None),
        (f"/staff/uploads/{world['saved'].id}/undo", {}, None),
        (
            "/staff/courses/new",
            {
                "code": "A-NEW-01",
                "title": "新课程",
                "hours": "16",
                "capacity": "30",
                "starts_on": DONE,
                "ends_on": DONE,
            },
            None,
        ),
        (
            f"/staff/courses/{course.code}/edit",
            {
                "title": "改过的标题",
                "hours": "32",
                "capacity": "40",
                "starts_on": course.starts_on.isoformat(),
                "ends_on": course.ends_on.isoformat(),
                "contact_phone": "0531-88888888",
            },
            None,
        ),
        (f"/staff/courses/{course.code}/close", {}, None),
        (f"/staff/courses/{course.code}/reopen", {}, None),
        (f"/companies/unconfirmed/{world['unconfirmed']}/match", {"into": str(company.id)}, None),
        (f"/staff/courses/{course.code}/certificate", {"title_en": "Digital design"}, None),
        (f"/universities/{a.code}/certificate", {"name_en": "Shandong Tech"}, None),
        (f"/staff/courses/{course.code}/certificates", {}, None),
        (f"/staff/courses/{course.code}/prints", {"scope": "shown"}, None),
        (f"/staff/courses/{course.code}/prints", {"scope": "ticked", "serial": serial}, None),
        (f"/staff/certificates/{serial}/revoke", {"reason": "录入错误"}, None),
        (f"/staff/certificates/{serial}/reissue", {}, None),
        ("/tokens", {"name": "nightly upload"}, None),
        (f"/tokens/{token.id}/revoke", {}, None),
        (
            "/account/password",
            {
                "current_password": "correct horse battery",
                "new_password": "another long password",
                "new_password_again": "another long password",
            },
            None,
        ),
        (f"/courses/{course.code}/enroll", {"name": "王五", "consent": "yes"}, None),
        # The administration's own forms: the view is read-only everywhere, not only at /staff.
        ("/admin/universities", {"code": "NEW", "name": "新大学", "city_code": "3701"}, None),
        ("/admin/users", {"email": "x@a.edu.cn", "password": "a-long-password"}, None),
        ("/admin/goals", {"universities": "60", "companies": "600", "talents": "6000"}, None),
        (f"/admin/companies/{company.uscc}/cluster", {"cluster": "knitwear"}, None),
        (f"/admin/universities/{b.code}/view", {}, None),
    ]


def test_every_post_in_the_universitys_name_is_refused(viewer, session, world):
    posts = _every_post(world, session)
    before = _snapshot(session)
    token = csrf_of(viewer.client, "/staff")  # the login's own token: not what refuses them
    for path, data, upload in posts:
        response = viewer.post(path, data={"csrf_token": token, **data}, files=upload)
        assert response.status_code == 403, (path, response.status_code)
        assert REFUSED in text(response, "p.error"), path
        assert _banner(response), path
    assert _snapshot(session) == before


def test_staff_still_post_while_an_administrator_views_their_university(
    viewer, staff_a, session, world
):
    code = world["course"].code
    saved = staff_a.post(
        f"/staff/courses/{code}/certificate",
        data={"csrf_token": staff_a.csrf(f"/staff/courses/{code}"), "title_en": "Design"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.expire_all()
    assert session.exec(select(Course.title_en).where(Course.code == code)).one() == "Design"


def test_staff_of_each_university_see_only_their_own(viewer, staff_a, staff_b, world):
    assert "A-VIEW-01" in staff_a.get("/staff").text
    theirs = staff_b.get("/staff")
    assert "B-VIEW-01" in theirs.text and "A-VIEW-01" not in theirs.text
    assert staff_b.get("/staff/courses/A-VIEW-01").status_code == 404
    assert staff_b.get(f"/staff/certificates/{world['serial']}").status_code == 404
    # The viewer's cookie in a staff member's browser is not a view of anything.
    staff_b.client.cookies.set("dandelion_viewing", viewer.client.cookies["dandelion_viewing"])
    assert "A-VIEW-01" not in staff_b.get("/staff").text
    assert staff_b.get("/staff/courses/A-VIEW-01").status_code == 404
    # Nor can staff start one.
    refused = staff_a.post(
        f"/admin/universities/{world['a'].code}/view",
        data={"csrf_token": staff_a.csrf("/staff")},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "dandelion_viewing" not in refused.cookies


def test_the_administration_is_closed_until_the_view_ends(viewer, session, world):
    closed = viewer.get("/admin")
    assert closed.status_code == 403 and REFUSED in text(closed, "p.error")
    end = page(closed).select_one("#viewing-banner form")
    token = end.select_one("input[name=csrf_token]")["value"]
    ended = viewer.post(end["action"], data={"csrf_token": token}, follow_redirects=True)
    assert ended.status_code == 200 and flash(ended) == f"对{world['a'].name}的只读查看已结束"
    assert "dandelion_viewing" not in viewer.client.cookies
    assert _banner(ended) is None and viewer.get("/admin").status_code == 200
    assert viewer.get("/staff").status_code == 403  # an administrator is no staff member
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "university.view_end"))
    assert event.actor == viewer.user.actor and event.object_id == str(world["a"].id)


def test_starting_a_view_is_audited(viewer, session, world):
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "university.view"))
    assert event.actor == f"user:{viewer.user.id}" and event.object_id == str(world["a"].id)
    assert event.object_type == "university"


def test_downloads_with_full_id_numbers_are_audited_as_the_views(viewer, session, world):
    course, preview = world["course"], world["preview"]
    listing = viewer.get(f"/staff/courses/{course.code}/enrollments.xlsx")
    rejected = viewer.get(f"/staff/uploads/{preview.id}/errors.xlsx")
    assert listing.status_code == rejected.status_code == 200
    session.expire_all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.actor == viewer.user.actor).order_by(AuditEvent.id)
    ).all()
    downloads = [e for e in events if e.action == "university.view_download"]
    assert [e.object_id for e in downloads] == [str(world["a"].id)] * 2
    assert "enrollment_list" in downloads[0].detail and "errors" in downloads[1].detail
    assert "enrollment.export" in [e.action for e in events]  # the list's own record, too


def test_the_view_is_bound_to_this_login(viewer, new_client, session, world):
    cookie = viewer.client.cookies["dandelion_viewing"]
    colleague = new_client()
    login(colleague, make_user(session, role="admin"))
    colleague.cookies.set("dandelion_viewing", cookie)
    assert colleague.get("/admin").status_code == 200  # not viewing anything
    number, _, mac = cookie.partition(".")
    viewer.client.cookies.set("dandelion_viewing", f"{world['b'].id}.{mac}")  # made up
    assert viewer.get("/admin").status_code == 200
    viewer.client.cookies.set("dandelion_viewing", cookie)
    assert viewer.get("/admin").status_code == 403
    logout = viewer.post("/logout", data={"csrf_token": csrf_of(viewer.client, "/staff")})
    assert logout.status_code in (200, 303)
    login(viewer.client, viewer.user)
    assert viewer.get("/admin").status_code == 200  # a new login: the old view is gone
    assert number == str(world["a"].id)
