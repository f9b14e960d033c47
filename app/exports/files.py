"""What every file the product hands out is answered with: its type and its name."""

import re
import unicodedata
from urllib.parse import quote

from fastapi.responses import Response

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
TYPES = {"xlsx": XLSX_TYPE, "csv": CSV_TYPE}
# A name is a name, not a path: no folder separators, no control or format characters.
_NOT_IN_NAME = re.compile(r'[\\/\x00-\x1f\x7f"]')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str, ascii_name: str | None = None) -> str:
    """Content-Disposition as RFC 6266 has it for a name in Chinese: the name as UTF-8 in
    filename* (RFC 8187), and a plain ASCII one in filename for clients without it (by
    default the name's letters, digits, . - and _, the rest "_", or "download")."""
    name = "".join(c for c in _NOT_IN_NAME.sub("_", filename) if unicodedata.category(c) != "Cf")
    stem, dot, extension = (ascii_name or name).rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem = _NOT_ASCII_NAME.sub("_", stem).strip("._") or "download"
    extension = _NOT_ASCII_NAME.sub("", extension)
    fallback = f"{stem}.{extension}" if extension else stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(content: bytes, media_type: str, filename: str, ascii_name: str | None = None):
    """A file to save, never kept by a cache on the way: it holds personal data."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": attachment(filename, ascii_name),
            "Cache-Control": "private, no-store",
        },
    )
