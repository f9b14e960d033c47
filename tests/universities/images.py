"""Seal images as a clerk's scanner or drawing program saves them, built with Pillow."""

import math
import struct
import zlib
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

RED = (200, 22, 29, 255)
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


def seal_png(side: int = 400, *, name: str = "山东理工大学", mode: str = "RGBA") -> bytes:
    """A round red seal on a transparent canvas: a ring, the name along it, a star inside."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    middle, radius = side / 2, side / 2 - side * 0.03
    draw.ellipse(
        [middle - radius, middle - radius, middle + radius, middle + radius],
        outline=RED,
        width=max(2, side // 28),
    )
    _star(draw, middle, middle, side * 0.16)
    if FONT.is_file():
        _arc_text(image, name, middle, radius * 0.74, side)
    if mode != "RGBA":
        image = image.convert(mode)
    return _png(image)


def opaque_png(side: int = 400) -> bytes:
    """A PNG with an alpha channel that is opaque everywhere: a white square behind the seal."""
    image = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    ImageDraw.Draw(image).ellipse([10, 10, side - 10, side - 10], outline=RED, width=12)
    return _png(image)


def noisy_png(side: int) -> bytes:
    """Random pixels with an alpha channel: a PNG that cannot compress, of about 4 × side² bytes."""
    import os

    image = Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    return _png(image)


def jpeg_named_png(side: int = 400) -> bytes:
    out = BytesIO()
    Image.new("RGB", (side, side), (200, 22, 29)).save(out, format="JPEG")
    return out.getvalue()


def with_claimed_size(png: bytes, width: int, height: int) -> bytes:
    """The same file with its header claiming another size (CRC fixed): a decompression bomb's
    header on a small file."""
    assert png[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return png[:16] + ihdr + crc + png[33:]


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, r: float) -> None:
    points = []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        length = r if i % 2 == 0 else r * 0.4
        points.append((x + length * math.cos(angle), y + length * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _arc_text(image: Image.Image, text: str, middle: float, radius: float, side: int) -> None:
    # The SC face of the collection (JP, KR, SC, TC, HK): mainland glyph shapes.
    font = ImageFont.truetype(str(FONT), size=int(side * 0.13), index=2)
    spread = math.radians(220)
    for i, char in enumerate(text):
        angle = -math.pi / 2 - spread / 2 + spread * (i + 0.5) / len(text)
        glyph = Image.new("RGBA", (int(side * 0.18),) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, font=font, fill=RED, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = middle + radius * math.cos(angle) - glyph.width / 2
        y = middle + radius * math.sin(angle) - glyph.height / 2
        image.alpha_composite(glyph, (int(x), int(y)))
