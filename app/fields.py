"""Field types shared by the input models of several domains."""

import re
import unicodedata
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlmodel import SQLModel

from app.companies import validators as uscc_validators
from app.i18n import N_
from app.text import without_pasted_invisibles
from app.trainees import validators

_INVISIBLE = frozenset({"Cc", "Cf"})


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
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, min_length=2, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]

# A row's id chosen from a list: bounded, since SQLite refuses ints past 2**63 and PostgreSQL's
# INTEGER past 2**31 with an error instead of "no such row".
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]

# A person's identity, normalised on the way in: the validators' messages become field errors.
IdNumber = Annotated[str, AfterValidator(lambda v: validators.parse_id_number(v).number)]
PersonName = Annotated[str, AfterValidator(validators.normalize_name)]
Mobile = Annotated[str, AfterValidator(validators.normalize_mobile)]
Uscc = Annotated[PlainText, AfterValidator(uscc_validators.normalize_uscc)]


def _full_company_name(name: str) -> str:
    if len(name) < 2:
        raise ValueError(N_("Enter the company's full name"))
    return name


# A company's name as a trainee types it for an employer we do not know yet.
CompanyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=100),
    AfterValidator(_plain),
    AfterValidator(_full_company_name),
]

# Email addresses, checked by one rule everywhere (staff accounts, enrollments). Our own rule
# rather than the email-validator package: the forms and the API must show our message ids,
# never a library's English, and no address is ever looked up in DNS. It accepts what people
# type (internationalised domains like 例子.中国 and plus addresses included) and refuses what
# no mail server delivers to: a missing or doubled @, spaces, a domain without a dot, empty or
# hyphen-edged labels, an IP address, or "Name <address>" pasted from a mail program.
_LOCAL_PART = re.compile(r"[^\s@\"(),:;<>\[\]\\]{1,64}")  # a dot-atom, as RFC 5322 has it


def _is_label(label: str) -> bool:
    """One part of a domain: letters of any script (with their combining marks), digits and
    inner hyphens, at most 63 characters."""

    def letter_or_digit(ch: str) -> bool:
        return ch.isalnum() or unicodedata.category(ch).startswith("M")

    return (
        0 < len(label) <= 63
        and label[0].isalnum()
        and label[-1] != "-"
        and all(ch == "-" or letter_or_digit(ch) for ch in label)
    )


def _email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    labels = domain.split(".")
    if not (
        _LOCAL_PART.fullmatch(local)
        and ".." not in local
        and not local.startswith(".")
        and not local.endswith(".")
        and len(labels) >= 2
        and all(map(_is_label, labels))
        and not labels[-1].isdigit()
    ):
        raise ValueError(N_("Enter a valid email address"))
    # Domains are case-insensitive; the part before @ belongs to the mail server, kept as typed.
    return f"{local}@{domain.lower()}"


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_plain),
    AfterValidator(_email),
]


def _blank_is_none(value: object) -> object:
    # An optional field left empty ("" from a form or a JSON client) was not given at all.
    return (
        None if isinstance(value, str) and not without_pasted_invisibles(value).strip() else value
    )


OptionalEmail = Annotated[Email | None, BeforeValidator(_blank_is_none)]
OptionalCompanyName = Annotated[CompanyName | None, BeforeValidator(_blank_is_none)]
OptionalUscc = Annotated[Uscc | None, BeforeValidator(_blank_is_none)]


def _no_wide_characters(text: str) -> str:
    # The English line of a certificate must read wholly in English: a Chinese title pasted
    # into an English field would print a half-translated sentence.
    if any(unicodedata.east_asian_width(ch) in "WF" for ch in text):
        raise ValueError(N_("Use English here: no Chinese or full-width characters"))
    return text


# What a certificate prints besides the record: a university's or a course's English name,
# and who signs (a course may name its own signatory). All optional: empty means not given.
EnglishName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(_plain),
    AfterValidator(_no_wide_characters),
]
SignatoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(_plain)
]
SignatoryTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_plain)
]
OptionalEnglishName = Annotated[EnglishName | None, BeforeValidator(_blank_is_none)]
OptionalSignatoryName = Annotated[SignatoryName | None, BeforeValidator(_blank_is_none)]
OptionalSignatoryTitle = Annotated[SignatoryTitle | None, BeforeValidator(_blank_is_none)]


class Signatory(SQLModel):
    """Who signs certificates, as a university or a course sets it: both optional, but a title
    alone would print as a signature line without a signer."""

    signatory_name: OptionalSignatoryName = None
    signatory_title: OptionalSignatoryTitle = None

    @field_validator("signatory_title")
    @classmethod
    def _titled(cls, title: str | None, info: ValidationInfo) -> str | None:
        # A name that failed its own checks is absent from info.data and has its message.
        if title and "signatory_name" in info.data and not info.data["signatory_name"]:
            raise ValueError(N_("Enter the signatory's name too, or leave the title empty"))
        return title
