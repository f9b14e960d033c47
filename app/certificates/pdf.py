"""Print a certificate: a design folder's HTML and CSS, laid out by WeasyPrint as one A4 page.

Every printed character is checked against the design's fonts first, so a name is refused
with the characters named rather than printed as boxes.
"""

import base64
import ctypes.util
import math
import re
import threading
import tomllib
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import segno
from babel.dates import format_date
from fontTools.ttLib import TTCollection, TTFont
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from app.certificates.serials import format_serial
from app.i18n import N_
from app.text import hours_text

DESIGNS_DIR = Path(__file__).resolve().parents[2] / "certificates"
# Variation selectors and zero-width joiners have no glyph of their own; HarfBuzz hides them.
_INVISIBLE = re.compile("[\u200c\u200d\ufe00-\ufe0f\U000e0100-\U000e01ef]")

# Routes run in a thread pool, and neither WeasyPrint nor Pango promises that the shared
# FontConfiguration (a Pango font map) survives concurrent use: renders take turns.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class CertificateView:
    """What a certificate prints. There is deliberately no ID number field: it is never printed."""

    serial: str
    holder_name: str
    course_title: str
    course_code: str
    university_name: str
    hours: Decimal | int | float
    completed_on: date
    issued_on: date
    verify_url: str
    university_name_en: str | None = None
    course_title_en: str | None = None
    # Who signs (per course, else the university's) and the university's seal, a transparent PNG.
    signatory_name: str | None = None
    signatory_title: str | None = None
    seal_png: bytes | None = None


class UnprintableText(ValueError):
    message = N_("The certificate fonts cannot print these characters: %(chars)s")

    def __init__(self, chars: list[str]):
        self.chars = chars
        self.params = {"chars": ", ".join(f"{c} (U+{ord(c):04X})" for c in chars)}
        super().__init__(self.message % self.params)


def unprintable_chars(text: str, design: str = "classic") -> list[str]:
    covered = _coverage(design)
    return [
        char
        for char in dict.fromkeys(text)
        if not char.isspace() and not _INVISIBLE.match(char) and ord(char) not in covered
    ]


def render_pdf(
    view: CertificateView, design: str = "classic", *, font_config: FontConfiguration | None = None
) -> bytes:
    """Lay out and print one certificate; font_config defaults to the process's shared one."""
    missing = unprintable_chars("".join(_printed_fields(view)), design)
    if missing:
        raise UnprintableText(missing)
    folder = _design_dir(design)
    html = _environment().get_template(f"{design}/certificate.html").render(_context(view))
    page = HTML(
        string=html, base_url=str(folder / "certificate.html"), url_fetcher=_DesignFetcher(folder)
    )
    with _render_lock:
        document = page.render(font_config=font_config or _shared_font_config())
        if len(document.pages) != 1:
            raise RuntimeError(f"certificate design {design!r} spilled onto a second page")
        return document.write_pdf()


def font_problems(design: str = "classic") -> list[str]:
    problems = []
    if ctypes.util.find_library("harfbuzz-subset") is None:
        problems.append(
            "HarfBuzz subsetting (libharfbuzz-subset) is missing, so every certificate takes "
            "seconds to print. Install the Debian package libharfbuzz-subset0."
        )
    for font in _design(design)["fonts"]:
        missing = [str(p) for p in _font_paths(design, font) if not p.is_file()]
        if missing:
            problems.append(
                f"The certificate font {font['family']} is missing ({', '.join(missing)}). "
                f"Install the Debian package {font.get('package', 'that provides it')}."
            )
    if not problems:
        try:
            _coverage(design)  # proves the files hold the families named; warms this process
        except ValueError as exc:
            problems.append(f"The certificate design {design!r} names a font wrongly: {exc}.")
    return problems


def _printed_fields(view: CertificateView) -> list[str]:
    values = (getattr(view, f.name) for f in fields(view))
    return [v for v in values if isinstance(v, str)]


def _context(view: CertificateView) -> dict:
    # English names are printed only when given: never a Chinese title inside an English line.
    return {
        "serial": format_serial(view.serial),
        "holder_name": view.holder_name,
        "holder_size": _size_class(view.holder_name, long=9, very_long=16),
        "course_title": view.course_title,
        "course_size": _size_class(view.course_title, long=24, very_long=math.inf),
        "course_title_en": view.course_title_en or "",
        "course_code": view.course_code,
        "university_name": view.university_name,
        "university_name_en": view.university_name_en or "",
        "hours": hours_text(view.hours),
        "hours_unit_en": "hour" if Decimal(str(view.hours)) == 1 else "hours",
        "completed_zh": _date_zh(view.completed_on),
        "completed_en": _date_en(view.completed_on),
        "issued_zh": _date_zh(view.issued_on),
        "issued_en": _date_en(view.issued_on),
        "qr_data_uri": _qr_data_uri(view.verify_url),
        "verify_url": view.verify_url,
        "printed_url": _printed_url(view.verify_url),
        "issued_zh_formal": _date_zh_formal(view.issued_on),
        "signatory_name": view.signatory_name or "",
        "signatory_title": view.signatory_title or "",
        "seal_data_uri": _png_data_uri(view.seal_png) if view.seal_png else "",
    }


def _size_class(text: str, *, long: float, very_long: float) -> str:
    # Wide (CJK) characters take a full em, Latin letters about half of one.
    width = sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)
    return "very-long" if width > very_long else "long" if width > long else ""


def _date_zh(day: date) -> str:
    return format_date(day, "y年M月d日", locale="zh_CN")


_ZH_DIGITS = "〇一二三四五六七八九"


def _date_zh_formal(day: date) -> str:
    """二〇二六年十二月三日: the date under the issuer and its seal, as certificates write it."""
    year = "".join(_ZH_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{_zh_count(day.month)}月{_zh_count(day.day)}日"


def _zh_count(n: int) -> str:
    tens, ones = divmod(n, 10)  # 1-31: 十, 十二, 二十, 三十一
    prefix = "" if tens == 0 else "十" if tens == 1 else _ZH_DIGITS[tens] + "十"
    return prefix + (_ZH_DIGITS[ones] if ones else "")


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _date_en(day: date) -> str:
    # Babel, not strftime("%B"), whose month names follow the server's locale.
    return format_date(day, "d MMMM y", locale="en")


def _qr_data_uri(url: str) -> str:
    # Error level M survives a worn print; four modules of quiet zone, as the QR standard asks.
    return segno.make(url, error="m", micro=False).svg_data_uri(border=4, dark="#111")


def _printed_url(url: str) -> str:
    # The query carries the signature, which is for the scanner and too long to read.
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


@cache
def _shared_font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(DESIGNS_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


class _DesignFetcher(URLFetcher):
    """Loads the design's own files and the QR data URI, and nothing else: no network."""

    def __init__(self, folder: Path):
        super().__init__(allowed_protocols=("file", "data"))
        self._prefix = folder.as_uri() + "/"

    def fetch(self, url, headers=None):
        if not url.startswith(("data:", self._prefix)):
            raise ValueError(f"certificate designs may not load {url}")
        return super().fetch(url, headers)


@cache
def _design(design: str) -> dict:
    with (_design_dir(design) / "design.toml").open("rb") as f:
        return tomllib.load(f)


def _design_dir(design: str) -> Path:
    folder = DESIGNS_DIR / design
    if not re.fullmatch(r"[a-z0-9_-]+", design) or not (folder / "design.toml").is_file():
        raise ValueError(f"unknown certificate design {design!r}")
    return folder


def _font_paths(design: str, font: dict) -> list[Path]:
    # Relative paths name fonts bundled inside the design folder.
    return [_design_dir(design) / f for f in font["files"]]


@cache
def _coverage(design: str) -> frozenset[int]:
    """Code points some family prints in all its weights: the union over families."""
    covered: set[int] = set()
    for font in _design(design)["fonts"]:
        cmaps = [_cmap(path, font["family"]) for path in _font_paths(design, font)]
        covered |= frozenset.intersection(*cmaps)
    return frozenset(covered)


def _cmap(path: Path, family: str) -> frozenset[int]:
    with path.open("rb") as f:
        is_collection = f.read(4) == b"ttcf"
    collection = TTCollection(path, lazy=True) if is_collection else None
    faces = collection.fonts if collection else [TTFont(path, lazy=True)]
    try:
        face = next(face for face in faces if family in _family_names(face))
        # Only code points matter: stand-in glyph names spare parsing the 65,535-glyph CFF.
        face.setGlyphOrder([f"g{i}" for i in range(face["maxp"].numGlyphs)])
        return frozenset(face.getBestCmap())
    except StopIteration:
        raise ValueError(f"{path} has no face of the family {family!r}") from None
    finally:
        for face in faces:
            face.close()


def _family_names(face: TTFont) -> tuple[str | None, str | None]:
    names = face["name"]
    return names.getDebugName(16), names.getDebugName(1)
