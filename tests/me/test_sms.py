"""A deployment's own SMS gateway, plugged in by its dotted path."""

import logging

from fastapi.testclient import TestClient

from tests.me.signing import MOBILE, ask_code, enter_code

SENT: list[tuple[str, str, int]] = []


class RecordingGateway:
    def __init__(self, settings) -> None:
        self.settings = settings

    def send_code(self, mobile: str, code: str, minutes: int) -> None:
        SENT.append((mobile, code, minutes))


class BrokenGateway:
    def __init__(self, settings) -> None:
        pass

    def send_code(self, mobile: str, code: str, minutes: int) -> None:
        raise ConnectionError("gateway timed out")


def test_codes_go_to_the_configured_gateway_and_not_to_the_log(app_with, world, caplog):
    caplog.set_level(logging.INFO)
    SENT.clear()
    application = app_with(sms_sender="tests.me.test_sms:RecordingGateway")
    with TestClient(application, base_url="http://testserver") as client:
        assert ask_code(client, world.id_number, MOBILE).status_code == 200
        [(mobile, code, minutes)] = SENT
        assert (mobile, minutes) == (MOBILE, 10) and code not in caplog.text
        assert enter_code(client, code).url.path == "/me"


def test_a_failing_gateway_answers_as_a_pair_that_matches_nothing(app_with, world, caplog):
    """The message goes out after the answer: a failing gateway (or a slow one) must not tell a
    guesser that this ID number and mobile belong together."""
    application = app_with(sms_sender="tests.me.test_sms.BrokenGateway")
    with TestClient(application, base_url="http://testserver") as client:
        matching = ask_code(client, world.id_number, MOBILE)
        unknown = ask_code(client, world.id_number, "13700000000")
    assert matching.status_code == unknown.status_code == 200
    assert matching.url.path == unknown.url.path == "/me/code"
    assert matching.text == unknown.text
    failures = [r for r in caplog.records if r.name == "app.me.signin"]
    assert failures and "gateway timed out" in failures[0].exc_text
    assert MOBILE not in caplog.text
