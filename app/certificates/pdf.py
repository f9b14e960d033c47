"""Print a certificate: a design folder's HTML and CSS, laid out by WeasyPrint as one A4 page.

Every printed character is checked against the design's fonts first, so a name is refused
with the characters named rather than printed as boxes. The fonts are the families
design.toml names, as fontconfig finds them; a family with `copies` is printed from its
pre-subset copies first (app/certificates/fonts.py), the full family catching the rest.
"""

import base64
import copy
import io
import logging
import math
import re
import threading
import tomllib
import unicodedata
from collections.abc import Sequence
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
from PIL import Image
from weasyprint import CSS, HTML, Document
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from app.certificates import fonts
from app.certificates.serials import format_serial, new_serial
from app.errors import AppError
from app.i18n import N_
from app.text import hours_text

log = logging.getLogger(__name__)

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
    # A share copy (app/me): stamped with its purpose and the last day it verifies; its QR
    # code and link lead to the share's page instead of the verification page.
    share_purpose: str | None = None
    share_valid_until: date | None = None


class UnprintableText(ValueError):
    message = N_("The certificate fonts cannot print these characters: %(chars)s")

    def __init__(self, chars: list[str]):
        self.chars = chars
        self.params = {"chars": ", ".join(f"{c} (U+{ord(c):04X})" for c in chars)}
        super().__init__(self.message % self.params)

    def __reduce__(self):  # crosses from a renderer process as itself
        return type(self), (self.chars,)


@dataclass(frozen=True)
class Problem:
    """Why this machine cannot print certificates well: a message id naming the Debian
    package to install, and its parameters. str() is the English text, for the console."""

    message: str
    params: dict[str, str]

    def __str__(self) -> str:
        return self.message % self.params


class PrintingUnavailable(AppError):
    """A font or library is missing: no certificate is printed until it is installed."""

    status = 503

    def __init__(self, problem: Problem):
        super().__init__(problem.message, params=problem.params)
        self.problem = problem

    def __reduce__(self):
        return type(self), (self.problem,)


def unprintable_chars(text: str, design: str = "classic") -> list[str]:
    """The characters of text the design's fonts cannot print; PrintingUnavailable when the
    fonts themselves are missing."""
    covered = _coverage(_printable(design))
    return [
        char
        for char in dict.fromkeys(text)
        if not char.isspace() and not _INVISIBLE.match(char) and ord(char) not in covered
    ]


def render_pdf(view: CertificateView, design: str = "classic") -> bytes:
    """Lay out and print one certificate, with this process's warm fonts and stylesheets."""
    document = _layout(view, design)
    with _render_lock:
        return document.write_pdf()


def merged_pdf(views: list[CertificateView], design: str = "classic") -> bytes:
    """One PDF of every certificate, a page each, written once: each font is embedded once
    for all the pages, which a concatenation of separate PDFs cannot do."""
    documents = [_layout(view, design) for view in views]
    if not documents:
        raise ValueError("a merged PDF needs at least one certificate")
    merged = documents[0].copy([page for document in documents for page in document.pages])
    merged.metadata = copy.copy(merged.metadata)  # not the first certificate's own title
    merged.metadata.title, merged.metadata.description = "结业证书", "Certificates of Completion"
    with _render_lock:
        return merged.write_pdf()


def prepare(design: str = "classic") -> None:
    """Build the pre-subset fonts if this machine has none yet, and warm this process: its
    fonts loaded and its stylesheets parsed, so the first certificate is as quick as the
    next. PrintingUnavailable when the fonts are missing."""
    _coverage(_printable(design))
    serial = new_serial(2026)
    sample = CertificateView(
        serial=serial,
        holder_name="李四",
        course_title="示例",
        course_code="X",
        university_name="示例",
        hours=1,
        completed_on=date(2026, 1, 1),
        issued_on=date(2026, 1, 1),
        verify_url=f"https://example.org/verify/{serial}",
    )
    render_pdf(sample, design)


def font_problems(design: str = "classic") -> list[Problem]:
    """What keeps this machine from printing the design: [] when nothing does."""
    problems = []
    if not _harfbuzz_subsets():
        problems.append(
            Problem(
                N_(
                    "HarfBuzz subsetting is not installed on this server, so every certificate "
                    "would take seconds to print: the server's administrator should install "
                    "the Debian package %(package)s."
                ),
                {"package": "libharfbuzz-subset0"},
            )
        )
    for font in _design(design)["fonts"]:
        if not fonts.faces(font["family"]):
            problems.append(
                Problem(
                    N_(
                        "The certificate font %(family)s is not installed on this server: "
                        "the server's administrator should install the Debian package "
                        "%(package)s."
                    ),
                    {"family": font["family"], "package": font.get("package", "?")},
                )
            )
    return problems


def _harfbuzz_subsets() -> bool:
    # What WeasyPrint itself loaded: without it, it falls back to fontTools, seconds a page.
    library = weasyprint_ffi.harfbuzz_subset
    return library is not None and bool(weasyprint_ffi.harfbuzz.hb_version_atleast(4, 1, 0))


_fine: set[str] = set()


def require(design: str = "classic") -> None:
    """PrintingUnavailable (503, naming the Debian package) unless this machine can print the
    design: for a press that queues printing, so it is refused at once rather than item by
    item. Once the fonts were found they are not looked for again; until then each call looks
    again, so installing the package is enough."""
    _printable(design)


def _printable(design: str) -> str:
    if design not in _fine:
        problems = font_problems(design)
        if problems:
            raise PrintingUnavailable(problems[0])
        _fine.add(design)
    return design


def _layout(view: CertificateView, design: str) -> Document:
    missing = unprintable_chars("".join(_printed_fields(view)), design)
    if missing:
        raise UnprintableText(missing)
    html = _environment().get_template(f"{design}/certificate.html").render(_context(view))
    with _render_lock:
        printer = _printer(design)
        document = HTML(
            string=html,
            base_url=str(printer.folder / "certificate.html"),
            url_fetcher=printer.fetcher,
        ).render(font_config=printer.font_config, stylesheets=printer.stylesheets)
    if len(document.pages) != 1:
        raise RuntimeError(f"certificate design {design!r} spilled onto a second page")
    return document


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
        "share_purpose": view.share_purpose or "",
        "share_until_zh": _date_zh(view.share_valid_until) if view.share_valid_until else "",
        "share_until_en": _date_en(view.share_valid_until) if view.share_valid_until else "",
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


# Pixels a QR module takes: 8 puts the 26 mm code at about 450 dpi, so no viewer's or printer's
# smoothing can blur a module's edge.
QR_SCALE = 8


def _qr_data_uri(url: str) -> str:
    """The code as a grey-scale PNG. WeasyPrint draws an SVG code by parsing its path of
    thousands of commands for every certificate (a sixth of a render); an 8-bit grey PNG it
    embeds as it is. Error level M survives a worn print; four modules of quiet zone, as the
    QR standard asks."""
    rows = [list(row) for row in segno.make(url, error="m", micro=False).matrix_iter(border=4)]
    pixels = bytes(0x11 if dark else 0xFF for row in rows for dark in row)
    image = Image.frombytes("L", (len(rows[0]), len(rows)), pixels)
    image = image.resize(
        (image.width * QR_SCALE, image.height * QR_SCALE), Image.Resampling.NEAREST
    )
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)
    return _png_data_uri(png.getvalue())


def _printed_url(url: str) -> str:
    # The query carries the signature, which is for the scanner and too long to read.
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


class _Printer:
    """What every certificate of a design shares in a process: one font configuration with
    the fonts loaded once, and the stylesheets parsed once."""

    def __init__(self, design: str):
        self.folder = _design_dir(design)
        self.font_config = FontConfiguration()
        copies = _face_copies(design)
        stylesheet = self.folder / "certificate.css"
        loader = _DesignFetcher(self.folder, fonts=[face.path for face in copies])
        self.stylesheets = [
            CSS(string=fonts.face_rules(copies), url_fetcher=loader, font_config=self.font_config),
            CSS(filename=stylesheet, url_fetcher=loader, font_config=self.font_config),
        ]
        # The page's own <link> to the stylesheet gets nothing: it is already parsed above.
        # (Given to render() it is a user stylesheet; it still wins over the browser's own.)
        self.fetcher = _DesignFetcher(self.folder, parsed=stylesheet)


@cache
def _printer(design: str) -> _Printer:
    return _Printer(design)


def _face_copies(design: str) -> list[fonts.FaceCopy]:
    copies = []
    for font in _design(design)["fonts"]:
        if "copies" not in font:
            continue
        try:
            copies += fonts.face_copies(font["family"], font["copies"])
        except OSError as exc:  # a read-only cache, say: print from the full fonts
            log.warning("certificates print with the full %s: %s", font["family"], exc)
    return copies


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(DESIGNS_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


class _DesignFetcher(URLFetcher):
    """Loads the design's own files, the pre-subset fonts and the QR and seal data URIs,
    and nothing else: no network."""

    def __init__(self, folder: Path, *, fonts: Sequence[Path] = (), parsed: Path | None = None):
        super().__init__(allowed_protocols=("file", "data"))
        self._prefix = folder.as_uri() + "/"
        self._fonts = {path.as_uri() for path in fonts}
        self._parsed = parsed.as_uri() if parsed else None

    def fetch(self, url, headers=None):
        if url == self._parsed:
            return super().fetch("data:text/css,", headers)
        if not url.startswith(("data:", self._prefix)) and url not in self._fonts:
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


@cache
def _coverage(design: str) -> frozenset[int]:
    """Code points some family prints in all its weights: the union over families.
    (A pre-subset copy covers less than its family, so the families alone decide.)"""
    covered: set[int] = set()
    for font in _design(design)["fonts"]:
        cmaps = [_cmap(face) for face in fonts.faces(font["family"])]
        if cmaps:
            covered |= frozenset.intersection(*cmaps)
    return frozenset(covered)


def _cmap(face: fonts.Face) -> frozenset[int]:
    with face.path.open("rb") as f:
        is_collection = f.read(4) == b"ttcf"
    if is_collection:
        collection = TTCollection(face.path, lazy=True)
        font, others = collection.fonts[face.index], collection.fonts
    else:
        font = TTFont(face.path, lazy=True)
        others = [font]
    try:
        # Only code points matter: stand-in glyph names spare parsing the 65,535-glyph CFF.
        font.setGlyphOrder([f"g{i}" for i in range(font["maxp"].numGlyphs)])
        return frozenset(font.getBestCmap())
    finally:
        for other in others:
            other.close()
