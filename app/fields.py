"""Field types shared by the input models of several domains."""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.i18n import N_
from app.trainees import validators

_INVISIBLE = frozenset({"Cc", "Cf"})
# Zero-width spaces and joiners, the word joiner and a byte-order mark come along when text is
# pasted from WeChat or a web page; they are dropped, not held against the person typing.
_PASTED = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def without_pasted_invisibles(text: str) -> str:
    return text.translate(_PASTED)


def has_control_chars(text: str) -> bool:
    """Control characters (NUL, DEL, C1) and invisible format characters (category Cf: bidi
    marks, overrides and isolates, zero-width spaces and joiners, the Arabic letter mark, a
    stray byte-order mark) never belong in typed text: they make what is shown or printed
    read differently from what is stored, and PostgreSQL refuses NUL outright. Tabs and line
    breaks are allowed."""
    return any(unicodedata.category(ch) in _INVISIBLE and ch not in "\t\r\n" for ch in text)


def _plain(text: str) -> str:
    text = without_pasted_invisibles(text).strip()
    if has_control_chars(text):
        raise ValueError(N_("This field contains invisible control characters"))
    return text


# Text typed by a person: surrounding spaces dropped before any length check, controls refused.
PlainText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_plain)]
# A code (course, university): letters, digits, - and _, kept upper-case so "qlu" is "QLU".
Code = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2,
                                        pattern=r"^[A-Za-z0-9_-]+$")]

# A row's id chosen from a list: bounded, since SQLite refuses ints past 2**63 and PostgreSQL's
# INTEGER past 2**31 with an error instead of "no such row".
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]

# A person's identity, normalised on the way in: the validators' messages become field errors.
IdNumber = Annotated[str, AfterValidator(lambda v: validators.parse_id_number(v).number)]
PersonName = Annotated[str, AfterValidator(validators.normalize_name)]
Mobile = Annotated[str, AfterValidator(validators.normalize_mobile)]
