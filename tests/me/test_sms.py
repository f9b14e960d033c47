"""A deployment's own SMS gateway, plugged in by its dotted path."""

import logging

from fastapi.testclient import TestClient

from app.me.sms import SmsUnavailable
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
        raise SmsUnavailable()


def test_codes_go_to_the_configured_gateway_and_not_to_the_log(app_with, world, caplog):
    caplog.set_level(logging.INFO)
    SENT.clear()
    application = app_with(sms_sender="tests.me.test_sms:RecordingGateway")
    with TestClient(application, base_url="http://testserver") as client:
        assert ask_code(client, world.id_number, MOBILE).status_code == 200
        [(mobile, code, minutes)] = SENT
        assert (mobile, minutes) == (MOBILE, 10) and code not in caplog.text
        assert enter_code(client, code).url.path == "/me"


def test_a_gateway_that_fails_is_a_clear_503(app_with, world):
    application = app_with(sms_sender="tests.me.test_sms.BrokenGateway")
    with TestClient(application, base_url="http://testserver") as client:
        answer = ask_code(client, world.id_number, MOBILE)
        assert answer.status_code == 503 and "稍后再试" in answer.text
