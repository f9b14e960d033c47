"""Identity checks for trainees: ID numbers, mobile numbers and names.

Pure functions without a database. Every refusal carries an English N_() message id
that the web layer translates.
"""

import operator
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from app import clock
from app.i18n import N_
from app.text import InvalidValue, half_width, squeezed

# --- ID numbers (GB 11643) ---------------------------------------------------------------

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # ISO 7064 MOD 11-2, position i
_ZEROS = 48 * sum(_ID_WEIGHTS)  # the weighted sum of seventeen "0" characters
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_ID_CHARACTERS = re.compile(r"[0-9]*X?")
_PROVINCE_SPANS = (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55))
# Province-level codes of GB/T 2260, shared with the USCC's region code.
PROVINCES = frozenset(str(code) for span in (*_PROVINCE_SPANS, range(61, 66)) for code in span)
PROVINCES |= {"71"}  # Taiwan, listed in GB/T 2260
_PERMIT_PREFIXES = frozenset({"81", "82", "83"})  # Hong Kong, Macao, Taiwan residence permits
_EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdNumber(InvalidValue):
    pass


@dataclass(frozen=True)
class IdNumber:
    number: str
    kind: str  # "resident" | "foreign_permanent" | "hk_macao_taiwan"
    birth_date: date
    warnings: tuple[str, ...] = ()
    converted_from_15: bool = False


def id_check_char(first17: str) -> str:
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("first17 must be 17 ASCII digits")
    # Over the ASCII codes, less 48 ("0") for each: a hundred thousand rows of an upload
    # each check one, and int() of every digit took most of the check's time.
    return _ID_CHECK[(sum(map(operator.mul, first17.encode(), _ID_WEIGHTS)) - _ZEROS) % 11]


def parse_id_number(raw: str, *, allow_15: bool = False, today: date | None = None) -> IdNumber:
    """today: handed in by a caller checking many numbers (China's clock costs 5 µs a call)."""
    number = squeezed(raw).upper()
    if not number:
        raise InvalidIdNumber(N_("Enter the ID number"))
    if not _ID_CHARACTERS.fullmatch(number):
        raise InvalidIdNumber(N_("Use only digits, and X only as the last character"))
    converted = len(number) == 15 and "X" not in number
    if converted:
        if not allow_15:
            raise InvalidIdNumber(
                N_("Use the 18-digit ID number; 15-digit numbers are no longer accepted")
            )
        number = _from_15(number)
    elif len(number) != 18:
        raise InvalidIdNumber(N_("An ID number has 18 characters"))
    kind = _id_kind(number)
    birth = _birth_date(number, today or clock.today())
    if id_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(N_("The ID number's last character does not match; check for a typo"))
    return IdNumber(number, kind, birth, _id_warnings(number, kind), converted)


def _from_15(number: str) -> str:
    # First-generation numbers were issued from 1984 to 2013 to people born in the 1900s.
    first17 = number[:6] + "19" + number[6:]
    return first17 + id_check_char(first17)


def _id_kind(number: str) -> str:
    # 2023 foreigners' permanent residence ID: a leading 9, then the code of the mainland
    # province that issued it (never Taiwan's 71), then a three-digit nationality code.
    if number[0] == "9":
        if number[1:3] not in PROVINCES - {"71"}:
            raise InvalidIdNumber(N_("The ID number starts with an unknown region code"))
        return "foreign_permanent"
    if number[:2] in _PERMIT_PREFIXES:
        return "hk_macao_taiwan"
    if number[:2] in PROVINCES:
        return "resident"
    raise InvalidIdNumber(N_("The ID number starts with an unknown region code"))


def _birth_date(number: str, today: date) -> date:
    message = N_("The ID number holds an impossible birth date")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(message) from None
    if not _EARLIEST_BIRTH <= born <= today:
        raise InvalidIdNumber(message)
    return born


def _id_warnings(number: str, kind: str) -> tuple[str, ...]:
    # County codes change every year while numbers last for life, so no county table:
    # only a city part of 00 (the province itself, never a place of registration) is flagged.
    if kind == "resident" and number[:2] != "71" and number[2:4] == "00":
        return (N_("Unknown county code"),)
    return ()


def fake_id_number(rng: random.Random, *, region: str = "370102", birth: date | None = None) -> str:
    if birth is None:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


# --- Mobile numbers ----------------------------------------------------------------------

_MOBILE_SEPARATORS = dict.fromkeys(map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2212()"))


class InvalidMobile(InvalidValue):
    pass


def normalize_mobile(raw: str) -> str:
    mobile = squeezed(raw).translate(_MOBILE_SEPARATORS)
    if not mobile:
        raise InvalidMobile(N_("Enter the mobile number"))
    mobile = _without_country_code(mobile)
    if not re.fullmatch(r"[0-9]+", mobile):
        raise InvalidMobile(N_("A mobile number contains only digits"))
    if not re.fullmatch(r"1[3-9][0-9]{9}", mobile):
        raise InvalidMobile(N_("Enter an 11-digit mobile number starting with 13 to 19"))
    return mobile


def _without_country_code(mobile: str) -> str:
    for prefix in ("+86", "0086"):
        if mobile.startswith(prefix):
            return mobile[len(prefix) :]
    if mobile.startswith(("+", "00")):
        raise InvalidMobile(N_("Only mainland China mobile numbers (+86) are accepted"))
    if len(mobile) == 13 and mobile.startswith("86"):
        return mobile[2:]
    return mobile


# --- Names -------------------------------------------------------------------------------

# Whole blocks rather than assigned characters: Python's unicodedata lags behind Unicode
# (3.11 knows 14.0, without Extensions H and I) and ID cards follow the newest standard.
_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),  # Extension A (䶮 U+4DAE)
    (0x4E00, 0x9FFF),  # Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B (𠮷 U+20BB7)
    (0x2A700, 0x2EE5F),  # Extensions C, D, E, F and I
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
    (0x30000, 0x323AF),  # Extensions G and H
)
_IDEOGRAPH = "\u3007" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _IDEOGRAPH_RANGES)  # 〇 too
_IDEOGRAPH_RE = re.compile(f"[{_IDEOGRAPH}]")
_SPACE_BETWEEN_IDEOGRAPHS = re.compile(f"(?<=[{_IDEOGRAPH}]) (?=[{_IDEOGRAPH}])")
# Minority names are typed with whatever dot the keyboard offers; ID cards print U+00B7.
_NAME_VARIANTS = dict.fromkeys(
    map(ord, "\u0387\u16eb\u2022\u2027\u2219\u22c5\u2e31\u30fb\uff0e\uff65"), "\u00b7"
) | {0x2019: "'", 0x2010: "-", 0x2011: "-"}
_NAME_PUNCTUATION = frozenset(" ·-'.")
_NAME_MAX = 50


class InvalidName(InvalidValue):
    pass


# Most names are two to four ideographs, which every step below leaves as they are: checked
# at once (compatibility ideographs excluded, since NFC changes them).
_PLAIN_NAME = re.compile(
    "[\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002a6df\U0002a700-\U0002ee5f"
    "\U00030000-\U000323af]{1,50}"  # _NAME_MAX
)


def normalize_name(raw: str) -> str:
    if _PLAIN_NAME.fullmatch(raw):
        return raw
    name = unicodedata.normalize("NFC", half_width(raw.translate(_NAME_VARIANTS)))
    name = "".join(" " if unicodedata.category(c) == "Zs" else c for c in name.strip())
    _check_name_chars(name)
    name = re.sub(r" ?· ?", "·", re.sub(r" +", " ", name))
    # Chinese ID cards never put a space between two ideographs: that one is a typing slip.
    name = _SPACE_BETWEEN_IDEOGRAPHS.sub("", name)
    if not any(_IDEOGRAPH_RE.match(c) or _is_latin_letter(c) for c in name):
        raise InvalidName(N_("Enter the name"))
    if len(name) > _NAME_MAX:
        raise InvalidName(N_("A name has at most 50 characters"))
    return name


def _check_name_chars(name: str) -> None:
    for i, ch in enumerate(name):
        if _IDEOGRAPH_RE.match(ch) or _is_latin_letter(ch) or ch in _NAME_PUNCTUATION:
            continue
        # A diacritic without a precomposed form stays a combining mark after NFC.
        previous = name[i - 1] if i else ""
        if _is_diacritic(ch) and (_is_latin_letter(previous) or _is_diacritic(previous)):
            continue
        if ch.isnumeric():
            raise InvalidName(N_("A name cannot contain digits"))
        raise InvalidName(N_("The name contains a character that is not allowed"))


def _is_diacritic(ch: str) -> bool:
    return "\u0300" <= ch <= "\u036f"


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


# Several parts (space or ·): each keeps its first character (J*** S****, 阿***·买**);
# one part keeps its first character and, from three characters on, its last (张*, 王*明, 欧**娜).
def mask_name(name: str) -> str:
    if " " in name or "·" in name:
        parts = re.split(r"([ ·])", name)
        return "".join(p if p in (" ", "·") else p[:1] + "*" * (len(p) - 1) for p in parts)
    if len(name) < 3:
        return name[:1] + "*" if len(name) == 2 else "*" * len(name)
    return name[0] + "*" * (len(name) - 2) + name[-1]
