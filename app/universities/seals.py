"""A university's seal as its certificates print it: a transparent PNG, checked and redrawn.

The upload is checked before Pillow decodes a pixel (signature, size in bytes, dimensions
read from the IHDR chunk by hand), so a decompression bomb is refused unread. What is stored
is Pillow's own re-encoding at print size in one ink: no metadata or stray chunks survive,
and every certificate embeds a small image rather than whatever the clerk's scanner made.
"""

import hashlib
import logging
import os
import struct
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageStat, UnidentifiedImageError

from app.errors import Invalid
from app.i18n import N_

MAX_BYTES = 1 << 20
MIN_SIDE, MAX_SIDE = 200, 2000
MAX_RATIO = 1.25  # a round seal on a square-ish canvas; a photo of a page is refused
# Printed at 40 mm (a university's round seal): 480 px is 300 dpi, as print asks.
PRINT_SIDE = 480
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FOLDER = "seals"

log = logging.getLogger(__name__)


def _refuse(message: str, **params) -> Invalid:
    return Invalid([("seal", message)], params=params)


def checked(data: bytes) -> bytes:
    """The PNG to store for an uploaded seal, or Invalid naming the seal field."""
    if len(data) > MAX_BYTES:
        raise _refuse(N_("The seal image must be at most %(mb)s MB"), mb=MAX_BYTES >> 20)
    if not data.startswith(PNG_SIGNATURE):
        raise _refuse(N_("The seal must be a PNG image (other formats renamed .png are refused)"))
    _check_dimensions(*_header_size(data))  # before Pillow decodes anything
    try:
        with Image.open(BytesIO(data), formats=["PNG"]) as image:
            # Every chunk and checksum to the end: a cut file fails here even though WeasyPrint,
            # once loaded, tells Pillow to accept truncated images (ImageFile, process-wide).
            image.verify()
        with Image.open(BytesIO(data), formats=["PNG"]) as image:
            if getattr(image, "is_animated", False):
                raise _refuse(N_("The seal must be a still image, not an animation"))
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            rgba = image.convert("RGBA")  # decodes every pixel
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _unreadable() from exc
    if not has_alpha or rgba.getchannel("A").getextrema()[0] == 255:
        raise _refuse(N_("The seal needs a transparent background (a PNG with an alpha channel)"))
    rgba.thumbnail((PRINT_SIDE, PRINT_SIDE), Image.Resampling.LANCZOS)
    out = BytesIO()
    _one_ink(rgba).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _one_ink(rgba: Image.Image) -> Image.Image:
    """The seal in one ink, the median colour of its solid pixels, its shape in the alpha.

    A seal is stamped in one colour; a scan's speckle and the hidden colours of transparent
    pixels would otherwise cost every certificate some 45 KB (a PDF keeps the colours and the
    alpha as two images, and only the alpha varies here)."""
    alpha = rgba.getchannel("A")
    solid = alpha.point(lambda a: 255 if a >= 128 else 0)
    mask = solid if solid.getbbox() else alpha.point(lambda a: 255 if a else 0)
    ink = tuple(int(c) for c in ImageStat.Stat(rgba.convert("RGB"), mask).median)
    seal = Image.new("RGB", rgba.size, ink)
    seal.putalpha(alpha)
    return seal


def _unreadable() -> Invalid:
    return _refuse(N_("The seal image cannot be read. Save it again as PNG."))


def _header_size(data: bytes) -> tuple[int, int]:
    # A PNG starts with its IHDR chunk: length, "IHDR", width, height (big-endian).
    if data[12:16] != b"IHDR" or len(data) < 24:
        raise _unreadable()
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _check_dimensions(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        raise _refuse(
            N_(
                "The seal image must be %(low)s to %(high)s pixels on each side (this one is %(size)s)"
            ),
            low=MIN_SIDE,
            high=MAX_SIDE,
            size=f"{width} × {height}",
        )
    if max(width, height) > MAX_RATIO * min(width, height):
        raise _refuse(N_("The seal image must be about square, with the seal in the middle"))


def store(data_dir: Path, university_id: int, png: bytes) -> str:
    """Writes the checked PNG under a name of its content; returns the path to record.

    An earlier seal stays on disk: a print run that read its path still finds it, and issued
    certificates never depended on it (their PDFs are stored bytes)."""
    relative = f"{FOLDER}/{university_id}-{hashlib.sha256(png).hexdigest()[:16]}.png"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    temp.write_bytes(png)
    os.replace(temp, target)  # whole or absent, even if two uploads of it race
    return relative


def read(data_dir: Path, relative: str | None) -> bytes | None:
    if not relative:
        return None
    try:
        return (data_dir / relative).read_bytes()
    except FileNotFoundError:
        log.warning("seal %s is recorded but missing from the data folder", relative)
        return None
