"""An uploaded XLSX is a zip archive: what is checked from its directory, before unpacking."""

import io
import struct
import zipfile

import pytest

from app.completions import xlsx as xlsx_reader
from tests.completions.uploads import HEADER, ROW, refused, staff_upload
from tests.files import inline_row, raw_xlsx


def _no_unzipping(monkeypatch):
    def fail(*args, **kwargs):
        pytest.fail("a member was decompressed")

    monkeypatch.setattr(zipfile.ZipFile, "open", fail)


def test_more_than_500_zip_entries_are_refused(client, session, campus):
    extra = {f"xl/media/image{i}.png": b"" for i in range(500)}
    data = raw_xlsx(HEADER + inline_row(2, ROW), extra=extra)
    response = staff_upload(client, session, campus["a"], "a.xlsx", data)
    assert response.status_code == 422 and "超过 500 个部件" in response.text


def _entries(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(count):
            archive.writestr("xl/workbook.xml" if i == 0 else f"x/{i}", b"")
    return out.getvalue()


def test_the_end_record_is_checked_before_zipfile_reads_the_directory(monkeypatch):
    many = _entries(501)
    # The end record may lie about the count; the directory's size still gives it away.
    lying = bytearray(_entries(4000))
    struct.pack_into("<HH", lying, len(lying) - 22 + 8, 1, 1)
    # A zip64 record, which zipfile would believe instead: no small workbook needs one.
    small = _entries(1)
    zip64 = small[:-22] + struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1) + small[-22:]
    monkeypatch.setattr(xlsx_reader.zipfile, "ZipFile", lambda *a, **k: pytest.fail("read"))
    assert refused("a.xlsx", many).message == xlsx_reader.TOO_MANY_PARTS
    assert refused("a.xlsx", bytes(lying)).message == xlsx_reader.TOO_MANY_PARTS
    assert refused("a.xlsx", zip64).message == xlsx_reader.UNREADABLE


def test_a_bomb_just_over_the_unpacked_limit_is_refused_unread(monkeypatch):
    rows, size, n = [], 0, 2
    while size <= xlsx_reader.MAX_UNZIPPED:
        rows.append(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>' + "<c/>" * 420 + "</row>")
        size, n = size + len(rows[-1]), n + 1
    bomb = raw_xlsx(HEADER + "".join(rows))
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert all(
            m.file_size < xlsx_reader.MAX_RATIO * m.compress_size for m in archive.infolist()
        )
    _no_unzipping(monkeypatch)
    assert refused("a.xlsx", bomb).message == "The workbook is too large once unpacked"
