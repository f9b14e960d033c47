"""The confirmation as a PNG a trainee keeps on the phone (saved from the page, or sent on in
WeChat): what the page shows, the holder's name masked as there, drawn with Pillow in the
CJK sans face the certificates use (Debian's fonts-noto-cjk, found through fontconfig)."""

import io
import textwrap
import threading
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from app.certificates import fonts
from app.certificates.pdf import PrintingUnavailable, Problem
from app.courses.models import MODE_NAMES
from app.enrollments.service import Confirmation, contact_of
from app.i18n import N_, gettext

FAMILY, PACKAGE = "Noto Sans CJK SC", "fonts-noto-cjk"
WIDTH, MARGIN, LINE = 720, 48, 44
GREEN, GREY, INK = (31, 122, 77), (102, 102, 102), (34, 34, 34)
# FreeType faces are not safe to share between threads drawing at once.
_lock = threading.Lock()


def draw(done: Confirmation) -> bytes:
    regular, bold = _faces()
    course, enrollment = done.course, done.enrollment
    rows = [
        (gettext("Name"), done.holder),
        (gettext("Course"), f"{course.title} ({course.code})"),
        (gettext("University"), done.university.name),
        (gettext("Dates"), f"{course.starts_on} – {course.ends_on}"),
        (
            gettext("How it is taught"),
            gettext(MODE_NAMES[course.mode]) if course.mode in MODE_NAMES else "",
        ),
        (gettext("Where it is taught"), course.venue or ""),
        (gettext("Whom to ask"), contact_of(course, done.university)),
    ]
    lines = [(label, part) for label, value in rows if value for part in _wrap(value)]
    height = MARGIN * 2 + 60 + 40 + 80 + LINE * len(lines) + 60
    with _lock:
        picture = Image.new("RGB", (WIDTH, height), "white")
        pen = ImageDraw.Draw(picture)
        y = MARGIN
        pen.text((MARGIN, y), gettext("Enrollment received"), font=_font(bold, 40), fill=GREEN)
        y += 60
        pen.text((MARGIN, y), gettext("Your enrollment number"), font=_font(regular, 24), fill=GREY)
        y += 40
        pen.text((MARGIN, y), enrollment.enrollment_no, font=_font(bold, 56), fill=INK)
        y += 80
        last = None
        for label, part in lines:
            if label != last:
                pen.text((MARGIN, y), label, font=_font(regular, 24), fill=GREY)
            pen.text((MARGIN + 150, y), part, font=_font(regular, 26), fill=INK)
            last, y = label, y + LINE
        note = gettext("Keep this number: the university uses it to contact you about the course.")
        pen.text((MARGIN, y + 16), note, font=_font(regular, 18), fill=GREY)
    out = io.BytesIO()  # encoding needs no face: outside the lock
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _wrap(value: str) -> list[str]:
    # About 20 CJK characters fit beside the label; a Latin text wraps at its spaces.
    return textwrap.wrap(value, 20 if any(ord(c) > 0x2E80 for c in value) else 38) or [""]


def _faces() -> tuple[fonts.Face, fonts.Face]:
    found = fonts.faces(FAMILY)
    if not found:
        raise PrintingUnavailable(
            Problem(
                N_(
                    "The font %(family)s is not installed on this server, so the confirmation "
                    "cannot be drawn as a picture (the page itself can still be printed): the "
                    "server's administrator should install the Debian package %(package)s."
                ),
                {"family": FAMILY, "package": PACKAGE},
            )
        )
    bold = [face for face in found if face.weight >= 200]
    return found[0], (bold or found)[-1]


@cache
def _font(face: fonts.Face, size: int) -> ImageFont.FreeTypeFont:
    # Loading a 20 MB collection takes a while: once per face and size in a process.
    return ImageFont.truetype(str(face.path), size, index=face.index)
