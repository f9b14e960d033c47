"""Unified social credit code (USCC, GB 32100-2015) of partner companies.

Characters 1 and 2 (registration authority, organisation type) are not checked against a
list: notices after the standard added authorities (A, N), so a list would refuse real
companies, and a mistyped character there is caught by the check character anyway.
"""

import random

from app.i18n import N_
from app.text import InvalidValue, squeezed
from app.trainees.validators import PROVINCES

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_DIGITS = frozenset("0123456789")


class InvalidUscc(InvalidValue):
    pass


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17 or not set(first17) <= _VALUES.keys():
        raise ValueError("first17 must be 17 characters of the USCC alphabet")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return _ALPHABET[-total % 31]


def normalize_uscc(raw: str) -> str:
    code = squeezed(raw).upper()
    if not code:
        raise InvalidUscc(N_("Enter the unified social credit code"))
    if not set(code) <= _VALUES.keys():
        raise InvalidUscc(N_("Use only digits and capital letters other than I, O, S, V and Z"))
    if len(code) != 18:
        raise InvalidUscc(N_("A unified social credit code has 18 characters"))
    if not set(code[2:8]) <= _DIGITS:
        raise InvalidUscc(N_("Characters 3 to 8 (the region code) must be digits"))
    # Codes registered by central authorities carry 10; every other names a province.
    if code[2:4] not in PROVINCES | {"10"}:
        raise InvalidUscc(N_("Characters 3 to 8 (the region code) must name a place in China"))
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidUscc(N_("The last character does not match the others; check for a typo"))
    return code


def fake_uscc(rng: random.Random, *, region: str = "370100") -> str:
    # 9 = market regulation authority, 1 = company; then the nine-character organisation code.
    first17 = "91" + region + "".join(rng.choice(_ALPHABET) for _ in range(9))
    return first17 + uscc_check_char(first17)
