"""A trainee's records: what they see, withdraw and download, and nobody else's."""

import json

from sqlmodel import select

from app.audit.models import AuditEvent
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.goals import tally
from app.i18n import translations
from tests.conftest import run_cli
from tests.factories import csrf_of, make_completion
from tests.html import flash, text, texts
from tests.me.signing import MOBILE, OTHER_MOBILE, sign_in


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def withdraw(client, enrollment_id: int):
    page = f"/me/enrollments/{enrollment_id}/withdraw"
    return client.post(page, data={"csrf_token": csrf_of(client, "/me")})


def test_the_records_page_shows_enrollments_consent_completions_and_certificates(
    client, caplog, certified
):
    records = sign_in(client, caplog, certified.id_number)
    rows = texts(records, "table.enrollments tbody tr")
    assert len(rows) == 2  # not the other trainee's enrollment in the same course
    assert any("SDUT-ME-01" in r and "2026-11" in r for r in rows)  # consent version shown
    assert "山东理工大学" in rows[0]
    assert certified.cert.course_title in text(records, "ul.certs")
    pdf = client.get(f"/me/certificates/{certified.cert.serial}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert records.headers["cache-control"] == "no-store"


def test_withdrawing_returns_the_seat_and_the_counters_follow(
    client, caplog, world, session, settings
):
    seats = world.future.seats_taken
    sign_in(client, caplog, world.id_number)
    confirm = client.get(f"/me/enrollments/{world.mine.id}/withdraw")
    assert confirm.status_code == 200
    done = withdraw(client, world.mine.id)
    assert done.url.path == "/me" and world.mine.enrollment_no in flash(done)
    session.expire_all()
    assert session.get(Enrollment, world.mine.id).status == "withdrawn"
    assert session.get(Course, world.future.id).seats_taken == seats - 1
    assert tally.differences(session) == []
    assert run_cli(settings, ["goals", "verify"]).exit_code == 0
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "enrollment.withdraw"))
    assert [e.actor for e in events] == [f"trainee:{world.mine.trainee_id}"]
    again = withdraw(client, world.mine.id)
    assert again.status_code == 409


def test_withdrawing_is_refused_once_the_course_started_or_with_a_completion(
    client, caplog, world, session
):
    sign_in(client, caplog, world.id_number)
    started = withdraw(client, world.ongoing.id)
    assert (
        started.status_code == 409
        and zh("The course has started: the enrollment can no longer be withdrawn") in started.text
    )
    make_completion(session, world.mine, world.future)
    session.commit()
    completed = withdraw(client, world.mine.id)
    assert (
        completed.status_code == 409
        and zh("This enrollment has a completion: it can no longer be withdrawn") in completed.text
    )
    session.expire_all()
    assert session.get(Enrollment, world.mine.id).status == "enrolled"


def test_another_trainees_records_cannot_be_reached_by_changing_numbers(
    client, caplog, certified, session, new_client
):
    owner = client
    sign_in(owner, caplog, certified.id_number)
    made = owner.post(
        f"/me/certificates/{certified.cert.serial}/share",
        data={
            "purpose": "求职",
            "valid_until": "2099-01-01",
            "csrf_token": csrf_of(owner, "/me"),
        },
    )
    stranger = new_client()
    sign_in(stranger, caplog, certified.other_id, OTHER_MOBILE)
    assert stranger.get(f"/me/enrollments/{certified.mine.id}/withdraw").status_code == 404
    token = csrf_of(stranger, "/me")
    for path in (
        f"/me/enrollments/{certified.mine.id}/withdraw",
        f"/me/certificates/{certified.cert.serial}/share",
        "/me/shares/1/revoke",
    ):
        assert stranger.post(path, data={"csrf_token": token}).status_code == 404, path
    assert stranger.get(f"/me/certificates/{certified.cert.serial}.pdf").status_code == 404
    assert stranger.get(f"/me/certificates/{certified.cert.serial}/share").status_code == 404
    assert made.status_code in (201, 422)
    session.expire_all()
    assert session.get(Enrollment, certified.mine.id).status == "enrolled"
    data = json.loads(stranger.get("/me/data.json").text)
    assert certified.mine.enrollment_no not in json.dumps(data)


def test_the_download_holds_everything_and_the_page_shows_the_same(client, caplog, world, session):
    sign_in(client, caplog, world.id_number)
    download = client.get("/me/data.json")
    assert download.headers["content-disposition"].startswith("attachment")
    data = json.loads(download.text)
    assert data["trainee"]["id_number"] == world.id_number
    numbers = {e["enrollment_no"]: e for e in data["enrollments"]}
    assert numbers.keys() == {world.mine.enrollment_no, world.ongoing.enrollment_no}
    assert numbers[world.mine.enrollment_no]["mobile"] == MOBILE
    assert numbers[world.mine.enrollment_no]["consent_version"] == world.mine.consent_version
    shown = client.get("/me/data")
    assert json.loads(text(shown, "pre.held-data")) == data
    exports = session.exec(select(AuditEvent).where(AuditEvent.action == "me.export")).all()
    assert len(exports) == 2 and all(world.id_number not in e.detail for e in exports)


def test_an_enrollment_made_with_another_mobile_is_shown_masked_and_not_withdrawn_here(
    client, caplog, world, session
):
    from tests.factories import make_course, make_enrollment

    course = make_course(session, world.a, starts_on=world.future.starts_on)
    other, _ = make_enrollment(session, course, id_number=world.id_number, mobile=OTHER_MOBILE)
    sign_in(client, caplog, world.id_number)
    data = json.loads(client.get("/me/data.json").text)
    held = next(e for e in data["enrollments"] if e["enrollment_no"] == other.enrollment_no)
    assert held["mobile"] == "137****1111"
    refused = withdraw(client, other.id)
    assert (
        refused.status_code == 409
        and zh("This enrollment was made with another mobile: sign in with that one to withdraw it")
        in refused.text
    )
