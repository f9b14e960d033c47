"""Print the monthly report (templates/goals/report_pdf.html) as one A4 page with WeasyPrint.

The same stack as the certificates: the classic design's fonts (certificates/classic/
design.toml), printed from the pre-subset copies app/certificates/fonts.py builds for them
(the full family is the last resort), so a report embeds a few hundred glyphs rather than a
whole Noto face. A machine without the fonts or HarfBuzz subsetting is answered as printing
a certificate is: PrintingUnavailable (503), naming the Debian package to install.
Nothing is fetched but the font copies and data: URIs (the charts are inline SVG).
"""

import logging
import threading
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel.dates import format_date
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from app import clock
from app.certificates import fonts, pdf
from app.goals.definitions import FIGURES
from app.i18n import N_, current_language, gettext
from app.universities.models import University
from app.web import templates

log = logging.getLogger(__name__)

DESIGN = "classic"  # whose fonts the report prints with
# Routes run in a thread pool; a FontConfiguration is not promised to survive concurrent use.
_lock = threading.Lock()


ALLIANCE = N_("Shandong textile and apparel industry alliance")
TITLE = N_("Monthly report on the goals: %(month)s")
FILENAME = N_("Goals monthly report %(month)s")


class OnePageOnly(RuntimeError):
    """The layout spilled onto a second page: the template must keep to one."""


@dataclass(frozen=True)
class Printed:
    content: bytes
    filename: str  # in the request's language, for Content-Disposition's filename*
    ascii_name: str  # for clients without RFC 6266


def print_report(context: dict, university: University | None = None) -> Printed:
    """The report of app/goals/report.py's context (alliance() or university()), in the
    request's language: the PDF and its file names."""
    first: date = context["month"]
    label = month_label(first)
    scope = university.name if university else gettext(ALLIANCE)
    made = clock.now()
    html = templates.env.get_template("goals/report_pdf.html").render(
        {
            **context,
            "goal_figures": FIGURES,
            "university": university,
            "title": gettext(TITLE, month=label),
            "scope_name": scope,
            "month_label": label,
            "made": made.strftime("%Y-%m-%d %H:%M"),
            "made_on": made.date().isoformat(),
        }
    )
    name = gettext(FILENAME, month=f"{first:%Y-%m}")
    ascii_name = f"goals-report-{first:%Y-%m}"
    if university:
        name = f"{university.name} {name}"
        ascii_name += f"-{university.code}"  # attachment() keeps its ASCII letters and digits
    return Printed(render(_svg_fonts(html)), f"{name}.pdf", f"{ascii_name}.pdf")


def _svg_fonts(html: str) -> str:
    # WeasyPrint draws an inline SVG's text with the SVG's own font-family attribute (inherited
    # from the <svg>), never the page's CSS: without it, DejaVu and a whole Noto Sans CJK JP.
    return html.replace("<svg ", f'<svg font-family="{", ".join(families())}" ')


def month_label(first: date) -> str:
    """2026年11月, or November 2026 (Babel's month names, not the server locale's)."""
    if current_language() == "zh":
        return format_date(first, "y年M月", locale="zh_CN")
    return format_date(first, "MMMM y", locale="en")


def render(html: str) -> bytes:
    """One page of PDF from the report's HTML; PrintingUnavailable when fonts are missing."""
    pdf.require(DESIGN)
    with _lock:
        printer = _printer()
        document = HTML(string=html, url_fetcher=printer.fetcher).render(
            font_config=printer.font_config, stylesheets=printer.stylesheets
        )
        if len(document.pages) != 1:
            raise OnePageOnly(f"the monthly report took {len(document.pages)} pages")
        return document.write_pdf()


def families() -> list[str]:
    """The CSS font-family list: each family's copies, then the family, in design.toml's order
    (the order the certificates print in)."""
    names: list[str] = []
    for font in _fonts():
        names += list(font.get("copies", {}).values()) + [font["family"]]
    return names


@cache
def _fonts() -> list[dict]:
    with (pdf.DESIGNS_DIR / DESIGN / "design.toml").open("rb") as f:
        return tomllib.load(f)["fonts"]


class _Printer:
    """One font configuration with the copies loaded once, and their @font-face rules."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()
        copies: list[fonts.FaceCopy] = []
        for font in _fonts():
            if "copies" in font:
                try:
                    copies += fonts.face_copies(font["family"], font["copies"])
                except OSError as exc:  # a read-only cache: print from the full fonts
                    log.warning(
                        "the monthly report prints with the full %s: %s", font["family"], exc
                    )
        self.fetcher = _Fetcher([copy.path.as_uri() for copy in copies])
        family = ", ".join(f'"{name}"' for name in families())
        self.stylesheets = [
            CSS(
                string=f"{fonts.face_rules(copies)}\nhtml {{ font-family: {family}; }}",
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        ]


@cache
def _printer() -> _Printer:
    return _Printer()


class _Fetcher(URLFetcher):
    """The font copies and data: URIs, nothing else: no network, no other file."""

    def __init__(self, allowed: list[str]):
        super().__init__(allowed_protocols=("file", "data"))
        self._allowed = set(allowed)

    def fetch(self, url, headers=None):
        if not url.startswith("data:") and url not in self._allowed:
            raise ValueError(f"the monthly report may not load {url}")
        return super().fetch(url, headers)
