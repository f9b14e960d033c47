"""Field types shared by the input models of several domains."""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from app.i18n import N_
from app.trainees import validators

# Bidirectional overrides and isolates can make printed text read differently from what is stored.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_chars(text: str) -> bool:
    """Control characters (NUL, DEL, C1) and bidi overrides never belong in typed text;
    PostgreSQL refuses NUL outright. Tabs and line breaks are allowed."""
    return any((unicodedata.category(ch) == "Cc" and ch not in "\t\r\n") or ch in _BIDI_CONTROLS
               for ch in text)


def _plain(text: str) -> str:
    if has_control_chars(text):
        raise ValueError(N_("This field contains invisible control characters"))
    return text


# Text typed by a person: surrounding spaces dropped before any length check, controls refused.
PlainText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_plain)]
# A code (course, university): letters, digits, - and _, kept upper-case so "qlu" is "QLU".
Code = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2,
                                        pattern=r"^[A-Za-z0-9_-]+$")]

# A person's identity, normalised on the way in: the validators' messages become field errors.
IdNumber = Annotated[str, AfterValidator(lambda v: validators.parse_id_number(v).number)]
PersonName = Annotated[str, AfterValidator(validators.normalize_name)]
Mobile = Annotated[str, AfterValidator(validators.normalize_mobile)]
