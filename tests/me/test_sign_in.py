"""Signing in to one's records: ID number, the mobile of an enrollment, a one-time code."""

import logging
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.me.models import TraineeCode, TraineeSession
from tests.factories import csrf_of, login, make_user, new_id_number
from tests.html import field_errors, flash, text
from tests.me.signing import MOBILE, OTHER_MOBILE, ask_code, code_from, enter_code, sign_in


def test_a_trainee_signs_in_with_the_code_sent_to_their_mobile(client, caplog, world, session):
    records = sign_in(client, caplog, world.id_number)
    assert text(records, ".id-masked") == world.id_number[:3] + "*" * 11 + world.id_number[-4:]
    assert world.id_number not in records.text
    assert MOBILE not in caplog.text  # the log says which mobile, masked
    assert "139****5678" in caplog.text
    assert session.exec(select(TraineeCode)).all() == []  # used up
    assert [e.action for e in session.exec(select(AuditEvent)) if e.actor.startswith("trainee:")]
    assert client.get("/me").status_code == 200


def test_the_answer_is_the_same_whether_or_not_the_pair_matches(client, caplog, world):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    answers = []
    for id_number, mobile in [
        (world.id_number, MOBILE),  # a trainee's own pair
        (world.id_number, "13600000000"),  # their ID number, a mobile of none of their enrollments
        (new_id_number(), MOBILE),  # an ID number nobody enrolled with
        (world.other_id, MOBILE),  # someone else's ID number with this mobile
    ]:
        caplog.clear()
        answer = ask_code(client, id_number, mobile)
        answers.append((answer.status_code, answer.url.path, answer.text))
        sent = "one-time code" in caplog.text
        assert sent == (id_number == world.id_number and mobile == MOBILE)
    assert len(set(answers)) == 1
    assert answers[0][:2] == (200, "/me/code")


def test_a_wrong_code_is_refused_and_five_tries_void_the_code(client, caplog, world):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    ask_code(client, world.id_number, MOBILE)
    code = code_from(caplog)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        refused = enter_code(client, wrong)
        assert refused.status_code == 422
        assert "code" in field_errors(refused)
    late = enter_code(client, code)  # right, but the code is void after five tries
    assert late.status_code == 422
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"


def test_an_expired_code_is_refused(client, caplog, world, session):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    ask_code(client, world.id_number, MOBILE)
    session.execute(update(TraineeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert enter_code(client, code_from(caplog)).status_code == 422


def test_a_code_counts_only_in_the_browser_that_asked(client, caplog, world, new_client):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    ask_code(client, world.id_number, MOBILE)
    stranger = new_client()
    stranger.get("/me/sign-in")
    stranger.cookies.set("dandelion_trainee_code", "guessed")
    assert enter_code(stranger, code_from(caplog)).status_code == 422
    assert enter_code(client, code_from(caplog)).url.path == "/me"


def test_codes_are_limited_per_id_number_mobile_and_address(client, caplog, world):
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    for _ in range(3):
        assert ask_code(client, world.id_number, MOBILE).status_code == 200
    assert ask_code(client, world.id_number, MOBILE).status_code == 429
    # An ID number nobody enrolled with is limited alike: the limit tells nothing either.
    unknown = new_id_number()
    for _ in range(3):
        assert ask_code(client, unknown, OTHER_MOBILE).status_code == 200
    refused = ask_code(client, unknown, OTHER_MOBILE)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # Per mobile whatever the ID numbers: five (refused requests are not counted).
    for _ in range(2):
        assert ask_code(client, new_id_number(), OTHER_MOBILE).status_code == 200
    assert ask_code(client, new_id_number(), OTHER_MOBILE).status_code == 429


def test_bad_input_is_shown_beside_the_field_without_the_id_number(client, world):
    typed = world.id_number[:-1] + ("0" if world.id_number[-1] != "0" else "1")
    answer = ask_code(client, typed, "12345")
    assert answer.status_code == 422
    errors = field_errors(answer)
    assert errors.keys() == {"id_number", "mobile"}
    assert typed not in answer.text


def test_the_session_ends_when_left_idle_and_at_sign_out(client, caplog, world, session):
    sign_in(client, caplog, world.id_number)
    session.execute(update(TraineeSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    session.commit()
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"
    sign_in(client, caplog, world.id_number)
    cookie = client.cookies.get("dandelion_trainee")
    token = csrf_of(client, "/me")
    out = client.post("/me/sign-out", data={"csrf_token": token})
    assert flash(out) and out.url.path == "/"
    client.cookies.set("dandelion_trainee", cookie)  # the old cookie kept: it opens nothing
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_a_trainee_session_is_not_a_staff_login_and_the_reverse(
    client, caplog, world, session, new_client
):
    sign_in(client, caplog, world.id_number)
    assert client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/admin", follow_redirects=False).headers["location"].startswith("/login")
    staff = new_client()
    login(staff, make_user(session, university=world.a))
    assert staff.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"


def test_forms_need_their_page_token_and_signing_in_changes_it(client, caplog, world):
    refused = client.post("/me/sign-in", data={"id_number": world.id_number, "mobile": MOBILE})
    assert refused.status_code == 403
    before = csrf_of(client, "/me/sign-in")
    sign_in(client, caplog, world.id_number)
    withdraw = f"/me/enrollments/{world.mine.id}/withdraw"
    assert client.post(withdraw, data={}).status_code == 403
    assert client.post(withdraw, data={"csrf_token": before}).status_code == 403
    assert client.post("/me/sign-out", data={"csrf_token": before}).status_code == 403
