"""Where trainees' one-time codes go: a pluggable SMS sender.

settings.sms_sender is "log" (development and tests: the code is written to the log, the
mobile masked) or the dotted path of a deployment's own class, "package.module:Class" or
"package.module.Class". That class is built with the settings for each code sent and has one
method:

    class GatewaySender:
        def __init__(self, settings: Settings) -> None: ...
        def send_code(self, mobile: str, code: str, minutes: int) -> None:
            # Send "your code is {code}, valid {minutes} minutes" to mobile (11 digits, no +86).
            # Raise when the gateway refuses or cannot be reached: the code is sent after the
            # page has answered (so that no answer tells whether the pair matched), and the
            # failure goes to the log; the trainee asks again.

It must never log the mobile in full (app.logs masks what it can, but a gateway's own log
lines are the gateway's business).
"""

import importlib
import logging
from functools import cache
from typing import Protocol

from app.config import Settings
from app.text import masked

log = logging.getLogger("app.me.sms")


class SmsSender(Protocol):
    def send_code(self, mobile: str, code: str, minutes: int) -> None: ...


class LogSender:
    """Development and tests: the code is in the log, which only the operator reads."""

    def __init__(self, settings: Settings | None = None) -> None:
        pass

    def send_code(self, mobile: str, code: str, minutes: int) -> None:
        log.warning("one-time code %s for %s, valid %s minutes", code, masked(mobile), minutes)


@cache
def _sender_class(path: str) -> type:
    module, _, name = path.rpartition(":") if ":" in path else path.rpartition(".")
    if not module:
        raise ValueError(f"DANDELION_SMS_SENDER must be 'log' or a dotted path, not {path!r}")
    return getattr(importlib.import_module(module), name)


def sender_for(settings: Settings) -> SmsSender:
    if settings.sms_sender == "log":
        return LogSender(settings)
    return _sender_class(settings.sms_sender)(settings)
