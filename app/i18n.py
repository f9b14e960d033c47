"""Translations: English message ids, Simplified Chinese first.

Messages raised deep in services are marked with N_() so that extraction finds them;
the web layer translates them when it renders, in the language of the request
(cookie, then Accept-Language, then Chinese).
"""

import gettext as _gettext
from contextvars import ContextVar, Token
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).parent / "locale"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    return message


@lru_cache
def translations(language: str) -> _gettext.NullTranslations:
    """Compile the .po catalog in memory, so no generated .mo file lives in the repository."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def set_language(language: str) -> Token[str]:
    return _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def reset_language(token: Token[str]) -> None:
    """Back to the language before set_language (a request's language ends with it)."""
    _language.reset(token)


def current_language() -> str:
    return _language.get()


def gettext(message: str, **params) -> str:
    text = translations(current_language()).gettext(message)
    return text % params if params else text


def is_ours(message: str) -> bool:
    """Whether a message is one of our message ids (a framework's text is not)."""
    return message in getattr(translations(DEFAULT_LANGUAGE), "_catalog", {})


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
