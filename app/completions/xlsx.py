"""Reading an uploaded XLSX: the archive is checked before openpyxl opens it."""

import io
import struct
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

import openpyxl

from app.completions.parsing import Record, UploadRefused
from app.i18n import N_

MAX_ENTRIES = 500  # a workbook of completions has about ten parts; pictures and sheets add some
# Measured by bench/hostile_uploads.py: a 100,000-row completions workbook (twice the row cap;
# ID as text, course code, date, name, score) written by openpyxl unpacks to 26.8 MiB, and
# Excel adds some 35 bytes of row attributes a row (spans, x14ac:dyDescent), 3.3 MiB more.
MAX_UNZIPPED = 32 * 1024 * 1024
MAX_RATIO = 200  # real workbooks compress 5-20 times; zip bombs a thousand times
_DIRECTORY = MAX_ENTRIES * 256  # bytes of central directory; a real record takes about 100

UNREADABLE = N_(
    "The workbook could not be read: open it in Excel, save it again as .xlsx and upload it"
)
TOO_MANY_PARTS = N_(
    "The workbook has more than %(max)s parts (sheets, pictures and the like): keep only the "
    "sheet of completions and upload it again"
)
TOO_LARGE = N_("The workbook is too large once unpacked")
_END = struct.Struct("<4s4H2LH")  # the zip's end of central directory record


def read_records(data: bytes) -> Iterator[Record]:
    check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; all mean the same
        raise UploadRefused(UNREADABLE) from exc
    return _records(workbook)


def check_archive(data: bytes) -> None:
    # Everything here comes from the central directory: nothing is decompressed. Sizes are
    # the declared ones; zipfile stops at the declared size while decompressing, so a member
    # that lies about its size cannot grow past these checks.
    _check_end_record(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UploadRefused(UNREADABLE) from exc
    if len(members) > MAX_ENTRIES:
        raise UploadRefused(TOO_MANY_PARTS, {"max": str(MAX_ENTRIES)})
    if sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise UploadRefused(TOO_LARGE)
    if any(m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members):
        raise UploadRefused(TOO_LARGE)
    if any(m.flag_bits & 0x1 for m in members):
        raise UploadRefused(
            N_("The workbook is password-protected: remove the password and upload it again")
        )
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise UploadRefused(
            N_("The file is a zip archive, not an Excel workbook: upload XLSX or CSV")
        )


def _check_end_record(data: bytes) -> None:
    """zipfile makes an object of every directory record before anyone can count them (100,000
    empty entries fit in an upload and take seconds), so the end record is read first, found
    where zipfile looks for it."""
    start = len(data) - _END.size
    if not (data[start : start + 4] == b"PK\x05\x06" and data[-2:] == b"\0\0"):
        start = data.rfind(b"PK\x05\x06", max(len(data) - 65_536 - _END.size, 0))
    if start < 0 or start + _END.size > len(data):
        raise UploadRefused(UNREADABLE)
    if start >= 20 and data[start - 20 : start - 16] == b"PK\x06\x07":
        raise UploadRefused(UNREADABLE)  # zip64, whose counts zipfile would believe instead
    entries, directory_size = _END.unpack_from(data, start)[4:6]
    if entries > MAX_ENTRIES or directory_size > _DIRECTORY:
        raise UploadRefused(TOO_MANY_PARTS, {"max": str(MAX_ENTRIES)})


def _records(workbook) -> Iterator[Record]:
    try:
        if not workbook.worksheets:
            raise UploadRefused(N_("The workbook has no worksheet"))
        sheet = workbook.worksheets[0]
        # Some generators write a wrong size in the sheet; read what is there instead.
        sheet.reset_dimensions()
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield (line, *_texts(values))
    except UploadRefused:
        raise
    except Exception as exc:
        raise UploadRefused(UNREADABLE) from exc
    finally:
        workbook.close()


def _texts(values: tuple) -> tuple[list[str], frozenset[int]]:
    texts = []
    numeric = []
    for index, value in enumerate(values):
        if value is None or isinstance(value, str):
            texts.append(value or "")
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numeric.append(index)
        texts.append(_text(value))
    return texts, frozenset(numeric)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # course code 2026001 typed as a number is stored as 2026001.0
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "text", value))  # ArrayFormula keeps its "=..." in .text
