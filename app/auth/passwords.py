"""What a new password must be: long enough, not one of the passwords everyone tries first, and
not the account's own email. Checked wherever a password is chosen (an administrator's new
account or reset, the user's own change, the command line)."""

import string
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from app.auth.models import MIN_PASSWORD
from app.i18n import N_

TOO_SHORT = N_("Use at least %(min_length)s characters")
TOO_COMMON = N_("This password is among the most common ones: choose another")
LIKE_EMAIL = N_("The password must not be your email address or its first part")
# Digits and signs people add to a word to pass a rule ("iloveyou2026!", "zhangwei.123").
_PADDING = string.digits + string.punctuation + " "


@cache
def _common() -> frozenset[str]:
    # zxcvbn's list: the 30,000 most frequent passwords of leaked sets (lower case).
    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, email: str) -> str | None:
    """The message id of what is wrong with the password, or None; its parameters are those
    of params()."""
    if len(password) < MIN_PASSWORD:
        return TOO_SHORT
    typed = password.casefold()
    bare = typed.strip(_PADDING)
    address = email.strip().casefold()
    own = {address, address.partition("@")[0], address.partition("@")[0].replace(".", "")}
    if typed in own or bare in own:
        return LIKE_EMAIL
    if typed in _common() or (len(bare) >= 4 and bare in _common()):
        return TOO_COMMON
    return None


def params() -> dict[str, int]:
    return {"min_length": MIN_PASSWORD}
