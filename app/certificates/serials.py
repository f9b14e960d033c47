"""Certificate serial numbers: DL + 2-digit year + 8 random characters + 1 check character.

The random characters come from Crockford's base32 alphabet, which has no I, L, O or U.
The check character is ISO 7064 MOD 37,36 (hybrid) over all 12 preceding characters.
That system catches every single substitution, but misses roughly one adjacent transposition
in a thousand; new_serial redraws those few serials, so for every serial we issue, any single
substitution and any adjacent transposition is caught.
"""

import re
import secrets
import unicodedata

from app.i18n import N_
from app.text import InvalidValue

PREFIX = "DL"
RANDOM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8
_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # ISO 7064 character values 0..35
_M = 36

# People misread printed 0/O and 1/I/L. A valid serial never holds I, L, O or U after the
# prefix (new_serial redraws when the check character would be one of them), so mapping the
# look-alikes back is never ambiguous. It is applied before the check, so a real typo still
# changes exactly one character and the check still catches it.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DASHES = "-‐‑‒–—―−_"
_SHAPE = re.compile(rf"{PREFIX}[0-9]{{2}}[{RANDOM_ALPHABET}]{{{RANDOM_LENGTH + 1}}}")


_SYSTEM_RANDOM = secrets.SystemRandom()  # the OS's generator; tests pass a seeded one


class InvalidSerial(InvalidValue):
    pass


def _check_character(payload: str) -> str:
    product = _M
    for char in payload:
        total = (product + _VALUES.index(char)) % _M or _M
        product = total * 2 % (_M + 1)
    return _VALUES[(_M + 1 - product) % _M]


def _catches_transpositions(serial: str) -> bool:
    for i in range(len(serial) - 1):
        swapped = serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :]
        if swapped != serial and _check_character(swapped[:-1]) == swapped[-1]:
            return False
    return True


def new_serial(year: int, rng=_SYSTEM_RANDOM) -> str:
    while True:
        random_part = "".join(rng.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))
        payload = f"{PREFIX}{year % 100:02d}{random_part}"
        serial = payload + _check_character(payload)
        # Redraw rather than print a check character read as 0, 1 or V (I, L, O, U),
        # or a serial with a swap of neighbours that the check would miss (about 1 in 100).
        if serial[-1] in RANDOM_ALPHABET and _catches_transpositions(serial):
            return serial


def _canonical(raw: str) -> str:
    # NFKC turns full-width letters, digits and the ideographic space into ASCII ones.
    text = unicodedata.normalize("NFKC", raw).upper()
    text = "".join(c for c in text if not c.isspace() and c not in _DASHES)
    if not text.startswith(PREFIX):
        return text
    return PREFIX + text[len(PREFIX) :].translate(_LOOK_ALIKES)


def normalize_serial(raw: str) -> str:
    serial = _canonical(raw)
    if not _SHAPE.fullmatch(serial):
        raise InvalidSerial(
            N_("This is not a certificate serial number: it looks like DL26-71HF-E865-5")
        )
    if _check_character(serial[:-1]) != serial[-1]:
        raise InvalidSerial(
            N_("This serial number is mistyped: its check character does not match")
        )
    return serial


def format_serial(serial: str) -> str:
    s = normalize_serial(serial)
    return f"{s[:4]}-{s[4:8]}-{s[8:12]}-{s[12:]}"
