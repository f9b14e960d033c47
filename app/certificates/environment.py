"""Whether this machine can print certificates, checked when the server and the worker start.

A missing CJK font or a missing HarfBuzz subsetting library must never show up as a 500 at
the first issue. In production the server and the worker refuse to start, naming the Debian
package to install; elsewhere they warn and start. Whatever still tries to print on such a
machine is answered PrintingUnavailable (503) with the same message (app/certificates/pdf.py).
"""

import os
from collections.abc import Callable

from app.certificates import fonts, pdf
from app.config import Settings


class RefusedToStart(RuntimeError):
    """Production without what certificates need: the message says what to install."""


def problems(design: str = "classic") -> list[pdf.Problem]:
    return pdf.font_problems(design)


def check_at_start(settings: Settings, *, warn: Callable[[str], None]) -> None:
    """Raise RefusedToStart in production when certificates cannot print; elsewhere hand
    each problem to warn. The one call the server and the worker make before they start."""
    if not _writable(fonts.cache_dir()):
        warn(
            f"the font cache {fonts.cache_dir()} cannot be written, so certificates print from "
            "the full fonts (about 300 KB each, and slower); set XDG_CACHE_HOME to a folder "
            "this user may write."
        )
    found = problems()
    if not found:
        return
    if settings.environment == "production":
        raise RefusedToStart(
            "certificates cannot be printed on this machine, so Dandelion will not start "
            "in production:\n" + "\n".join(f"- {problem}" for problem in found)
        )
    for problem in found:
        warn(f"{problem} Until then no certificate can be issued or printed.")


def prepare(*, warn: Callable[[str], None]) -> None:
    """Build the pre-subset fonts now (two minutes or so on 2 cores, once per machine) rather
    than at the first certificate, and warm this process; a failure is only a warning, since
    every render checks again."""
    try:
        pdf.prepare()
    except Exception as exc:
        warn(f"certificate fonts not prepared: {exc}")


def _writable(folder) -> bool:
    """The folder, or the nearest one above it that exists, may be written by this user."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
