"""Reading an uploaded XLSX: the archive is checked before openpyxl opens it."""

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

import openpyxl

from app.completions.parsing import Record, UploadRefused
from app.i18n import N_

MAX_ENTRIES = 2_000
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 200  # real workbooks compress 5-20 times; zip bombs a thousand times

_UNREADABLE = N_(
    "The workbook could not be read: open it in Excel, save it again as .xlsx and upload it"
)


def read_records(data: bytes) -> Iterator[Record]:
    check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; all mean the same
        raise UploadRefused(_UNREADABLE) from exc
    return _records(workbook)


def check_archive(data: bytes) -> None:
    # Sizes come from the central directory; zipfile stops at the declared size while
    # decompressing, so a member that lies about its size cannot grow past these checks.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UploadRefused(_UNREADABLE) from exc
    if len(members) > MAX_ENTRIES or sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise UploadRefused(N_("The workbook is too large once unpacked"))
    if any(m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members):
        raise UploadRefused(N_("The workbook is too large once unpacked"))
    if any(m.flag_bits & 0x1 for m in members):
        raise UploadRefused(
            N_("The workbook is password-protected: remove the password and upload it again")
        )
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise UploadRefused(
            N_("The file is a zip archive, not an Excel workbook: upload XLSX or CSV")
        )


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
        raise UploadRefused(_UNREADABLE) from exc
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
