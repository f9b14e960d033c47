"""Text as Chinese input methods and copy-paste deliver it; how numbers are masked and hours shown.

Pure functions, shared by the validators of every domain (trainees, companies, certificates)
and by the form fields, so a full-width digit or a pasted zero-width space means the same
everywhere.
"""

from decimal import Decimal

# Chinese input methods type full-width ASCII (U+FF01..FF5E) and the ideographic space.
HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: " "}
# Zero-width spaces and joiners, the word joiner and a byte-order mark come along when text is
# pasted from WeChat, a web page or a spreadsheet; they are dropped, never held against anyone.
PASTED_INVISIBLES = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HALF_WIDTH_VISIBLE = HALF_WIDTH | PASTED_INVISIBLES


def without_pasted_invisibles(text: str) -> str:
    return text.translate(PASTED_INVISIBLES)


def half_width(text: str) -> str:
    return text.translate(HALF_WIDTH)


def squeezed(text: str) -> str:
    """A code as typed (an ID number, a mobile, a USCC): half-width, without any whitespace or
    pasted invisible characters, so "３７０１ ０２…" is "370102…"."""
    return "".join(text.translate(_HALF_WIDTH_VISIBLE).split())


def masked(number: str) -> str:
    """An ID number or a mobile as pages, exports and logs show it: the first 3 and the last 4
    characters kept (370***********002X, 138****5678); a short value is masked whole."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


class InvalidValue(ValueError):
    """A value a validator refuses: `message` is an N_() message id, translated where it is
    shown, with `params` for its placeholders. Pydantic reports it as the field's error."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def hours_text(hours: Decimal | float | int) -> str:
    """Course hours as pages and certificates print them: 32.0 is "32", 16.5 stays "16.5",
    320 stays "320". str() first so a float 0.1 stays 0.1; ":f" keeps Decimal("4E+1") "40"."""
    return f"{Decimal(str(hours)).normalize():f}"
