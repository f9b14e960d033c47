"""Field types shared by the input models of several domains."""

from typing import Annotated

from pydantic import AfterValidator

from app.i18n import N_


def has_control_chars(text: str) -> bool:
    """NUL and other C0 controls never belong in typed text (PostgreSQL refuses NUL outright)."""
    return any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text)


def _plain(text: str) -> str:
    if has_control_chars(text):
        raise ValueError(N_("This field contains invisible control characters"))
    return text.strip()


# Text typed by a person: surrounding spaces dropped, control characters refused.
PlainText = Annotated[str, AfterValidator(_plain)]
