"""Deletion requests: the trainee asks, a system administrator confirms or refuses."""

from sqlmodel import select

from app.audit.models import AuditEvent
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.goals import tally
from app.me.models import CertificateShare, DeletionRequest
from app.trainees.models import Trainee
from tests.factories import csrf_of
from tests.html import field_errors, texts
from tests.me.signing import MOBILE, ask_code, sign_in
from tests.me.test_shares import link_of, make_share


def ask_deletion(client, confirm: bool = True):
    data = {"csrf_token": csrf_of(client, "/me")}
    if confirm:
        data["confirm"] = "yes"
    return client.post("/me/delete", data=data)


def decide(admin, request_id: int, action: str, **data):
    page = f"/admin/deletion-requests/{request_id}"
    return admin.post(f"{page}/{action}", data={"csrf_token": csrf_of(admin, page), **data})


def test_a_trainee_asks_once_with_a_confirmation(client, caplog, world, session):
    sign_in(client, caplog, world.id_number)
    unconfirmed = ask_deletion(client, confirm=False)
    assert unconfirmed.status_code == 422 and "confirm" in field_errors(unconfirmed)
    assert ask_deletion(client).url.path == "/me"
    assert ask_deletion(client).status_code == 409
    assert [r.state for r in session.exec(select(DeletionRequest))] == ["pending"]


def test_only_a_system_administrator_decides(client, caplog, world, staff_a, auditor):
    sign_in(client, caplog, world.id_number)
    ask_deletion(client)
    for someone in (staff_a, auditor):
        assert someone.get("/admin/deletion-requests").status_code == 403
    assert client.get("/admin/deletion-requests", follow_redirects=False).status_code == 303


def test_confirming_keeps_the_records_and_erases_the_rest(
    client, caplog, certified, session, admin, anonymous
):
    world = certified
    seats = world.future.seats_taken
    sign_in(client, caplog, world.id_number)
    share = link_of(make_share(client, world.cert.serial))
    ask_deletion(client)
    listed = admin.get("/admin/deletion-requests")
    assert world.id_number not in listed.text
    assert len(texts(listed, "table.deletion-requests tbody tr")) == 1
    assert decide(admin, 1, "confirm").status_code == 422  # the box not ticked
    done = decide(admin, 1, "confirm", confirm="yes")
    assert done.url.path == "/admin/deletion-requests"
    session.expire_all()
    mine = session.get(Enrollment, world.mine.id)
    ongoing = session.get(Enrollment, world.ongoing.id)
    assert mine.status == "withdrawn" and ongoing.status == "enrolled"  # completed: kept
    assert mine.mobile_masked == ongoing.mobile_masked == "" and ongoing.email_encrypted is None
    assert session.get(Course, world.future.id).seats_taken == seats - 1
    trainee = session.get(Trainee, mine.trainee_id)
    assert trainee.name == "张三"  # a completion names them: kept with it
    assert tally.differences(session) == []
    assert all(s.revoked_at for s in session.exec(select(CertificateShare)))
    assert anonymous.get(share).status_code == 410
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"
    assert anonymous.get(f"/verify/{world.cert.serial}").status_code == 200  # still verifies
    caplog.clear()
    ask_code(anonymous, world.id_number, MOBILE)
    assert "one-time code" not in caplog.text  # the mobile is gone: no way in any more
    actions = {e.action for e in session.exec(select(AuditEvent))}
    assert {"me.deletion_request", "me.deletion_confirm"} <= actions


def test_without_a_completion_the_name_and_id_number_go_too(client, caplog, world, session, admin):
    sign_in(client, caplog, world.other_id, "13700001111")
    ask_deletion(client)
    decide(admin, 1, "confirm", confirm="yes")
    session.expire_all()
    trainee = session.get(Trainee, world.theirs.trainee_id)
    assert trainee.name != "李四" and trainee.id_masked == ""
    assert decide(admin, 1, "confirm", confirm="yes").status_code == 409  # decided already


def test_a_refusal_needs_a_reason_and_the_trainee_sees_it(client, caplog, world, session, admin):
    sign_in(client, caplog, world.id_number)
    ask_deletion(client)
    assert decide(admin, 1, "refuse").status_code == 422
    assert decide(admin, 1, "refuse", reason="身份无法核实").url.path == "/admin/deletion-requests"
    assert "身份无法核实" in client.get("/me").text
    session.expire_all()
    assert session.get(Enrollment, world.mine.id).mobile_masked != ""
