"""Security events in the audit log: permission refusals (bounded, in their own transaction),
downloads of full ID numbers, and the accounts of the three duties made on the command line."""

from datetime import timedelta

from sqlmodel import col, select

from app import clock
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.auth.models import User
from app.completions.models import CompletionBatch
from tests.completions.uploads import staff_upload
from tests.conftest import run_cli
from tests.factories import login, make_course, make_enrollment
from tests.files import utf8_bom_csv
from tests.html import texts


def _refusals(new_session, actor: str) -> list[AuditEvent]:
    with new_session() as s:
        query = select(AuditEvent).where(
            AuditEvent.action == "security.refused", AuditEvent.actor == actor
        )
        return list(s.exec(query.order_by(col(AuditEvent.id))))


def test_a_refusal_is_recorded_once_a_minute_per_route(staff_a, new_session):
    for _ in range(5):
        assert staff_a.get("/admin").status_code == 403
    assert staff_a.get("/admin/accounts").status_code == 403
    events = _refusals(new_session, staff_a.user.actor)
    assert [e.object_id for e in events] == ["admin:home", "auth:accounts"]
    assert '"method": "GET"' in events[0].detail and '"path": "/admin"' in events[0].detail
    assert "Only administrators can do this" in events[0].detail


def test_a_refused_write_is_recorded(staff_a, new_session, university_a):
    form = {"email": "new@x.cn", "password": "a-long-password", "university_id": university_a.id}
    answer = staff_a.post("/admin/users", data={**form, "csrf_token": staff_a.csrf("/staff")})
    assert answer.status_code == 403
    [event] = _refusals(new_session, staff_a.user.actor)
    assert event.object_id == "auth:create_staff" and '"method": "POST"' in event.detail
    with new_session() as s:
        assert s.exec(select(User).where(User.email == "new@x.cn")).first() is None


def test_a_tokens_refusal_names_the_token(client, session, university_a, new_session):
    token, secret = auth.create_token(
        session, name="nightly", role="university", university_id=university_a.id
    )
    session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"code": "X1", "name": "某大学", "city_code": "3706"}
    for _ in range(3):
        assert client.post("/api/v1/universities", headers=headers, json=body).status_code == 403
    [event] = _refusals(new_session, f"token:{token.id}")
    assert event.object_type == "route" and '"method": "POST"' in event.detail
    assert secret not in event.detail


def test_no_event_for_the_anonymous_or_a_cross_site_post(anonymous, new_session):
    assert anonymous.get("/admin", follow_redirects=False).status_code == 303
    refused = anonymous.post(
        "/login", data={"email": "a@b.cn"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    with new_session() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "security.refused")).all() == []


def test_downloads_of_full_id_numbers_are_on_the_auditors_page(
    staff_a, auditor, session, university_a
):
    course = make_course(session, university_a, code="QLU-DIG-01")
    _, number = make_enrollment(session, course)
    assert staff_a.get(f"/staff/courses/{course.code}/enrollments.xlsx").status_code == 200
    done = (clock.today() - timedelta(days=2)).isoformat()
    staff_upload(
        staff_a.client,
        session,
        university_a,
        "a.csv",
        utf8_bom_csv([["张三", number[:17], course.code, done, "80"]]),  # a wrong number
    )
    batch_id = session.exec(select(CompletionBatch.id)).one()
    assert staff_a.get(f"/staff/uploads/{batch_id}/errors.xlsx").status_code == 200
    page = auditor.get("/audit?action=completion.errors_download")
    assert len(texts(page, "table.audit tbody tr")) == 1 and "id_numbers: full" in page.text
    listed = auditor.get("/audit?action=enrollment.export")
    assert len(texts(listed, "table.audit tbody tr")) == 1 and "id_numbers: full" in listed.text
    assert number not in page.text + listed.text


def test_the_three_duties_are_made_on_the_command_line(settings, new_client, session):
    for role in ("security", "auditor"):
        email = f"{role}@alliance.cn"
        made = run_cli(
            settings,
            ["admin", "create", "--email", email, "--password", "a-long-password", "--role", role],
        )
        assert made.exit_code == 0, made.output
        session.expire_all()
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.role == role and user.university_id is None
        browser = new_client()
        login(browser, user, "a-long-password")
        assert browser.get("/audit").status_code == (200 if role == "auditor" else 403)
    staff = run_cli(
        settings,
        [
            "admin",
            "create",
            "--email",
            "s@x.cn",
            "--password",
            "a-long-password",
            "--role",
            "staff",
        ],
    )
    assert staff.exit_code == 2 and "--role" in staff.output
