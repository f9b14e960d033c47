"""How a trainee signs in: ID number and mobile, then the code the log sender wrote."""

import logging
import re

from tests.factories import csrf_of

MOBILE = "13912345678"
OTHER_MOBILE = "13700001111"


def ask_code(client, id_number: str, mobile: str, **kwargs):
    token = csrf_of(client, "/me/sign-in")
    return client.post(
        "/me/sign-in",
        data={"id_number": id_number, "mobile": mobile, "csrf_token": token},
        **kwargs,
    )


def code_from(caplog) -> str:
    found = re.findall(r"one-time code (\d{6}) for", caplog.text)
    assert found, "no code in the log"
    return found[-1]


def enter_code(client, code: str, **kwargs):
    return client.post(
        "/me/code", data={"code": code, "csrf_token": csrf_of(client, "/me/code")}, **kwargs
    )


def sign_in(client, caplog, id_number: str, mobile: str = MOBILE):
    """The whole sign-in as a trainee does it; the records page it lands on."""
    caplog.set_level(logging.WARNING, logger="app.me.sms")
    caplog.clear()
    assert ask_code(client, id_number, mobile).status_code == 200
    records = enter_code(client, code_from(caplog))
    assert records.status_code == 200 and records.url.path == "/me", records.text
    return records
