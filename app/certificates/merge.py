"""Join the chunks of a print run into one PDF, a chunk at a time.

pypdf's PdfWriter holds every object of every part until it writes, about 60 KB of Python
objects a page: 300 MB for a run of 5,000. Here each part is read, its pages and what they
use are copied out under new object numbers, and the part is let go before the next, so
memory stays at one part's worth. Only pages are taken (with the first part's document
information): WeasyPrint's certificates have no outlines, forms or named destinations.
"""

from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

_CATALOG, _PAGES = 1, 2  # object numbers of the joined file's own catalog and page tree


def join_pdfs(parts: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        writer = _Writer(out)
        info = None
        for part in parts:
            reader = PdfReader(part)
            copier = _Copier(writer)
            for page in reader.pages:
                writer.pages.append(copier.page(page))
            if info is None and "/Info" in reader.trailer:
                info = copier.reference(reader.trailer.raw_get("/Info"))
            copier.finish()
        writer.finish(info)


class _Writer:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.offsets: dict[int, int] = {}
        self.pages: list[IndirectObject] = []
        self.next_number = _PAGES + 1
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def allocate(self) -> IndirectObject:
        number, self.next_number = self.next_number, self.next_number + 1
        return _ref(number)

    def write(self, number: int, obj: PdfObject) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def finish(self, info: IndirectObject | None) -> None:
        pages = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): ArrayObject(self.pages),
                NameObject("/Count"): NumberObject(len(self.pages)),
            }
        )
        self.write(_PAGES, pages)
        catalog = DictionaryObject(
            {NameObject("/Type"): NameObject("/Catalog"), NameObject("/Pages"): _ref(_PAGES)}
        )
        self.write(_CATALOG, catalog)
        size = self.next_number
        start = self.out.tell()
        self.out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for number in range(1, size):
            self.out.write(f"{self.offsets[number]:010d} 00000 n \n".encode())
        trailer = DictionaryObject(
            {NameObject("/Size"): NumberObject(size), NameObject("/Root"): _ref(_CATALOG)}
        )
        if info is not None:
            trailer[NameObject("/Info")] = info
        self.out.write(b"trailer\n")
        trailer.write_to_stream(self.out)
        self.out.write(f"\nstartxref\n{start}\n%%EOF\n".encode())


class _Copier:
    """Copies one part's objects into the writer, each once, under new numbers."""

    def __init__(self, writer: _Writer):
        self.writer = writer
        self.numbers: dict[int, IndirectObject] = {}  # the part's object number: the new ref
        self.waiting: list[tuple[IndirectObject, IndirectObject]] = []

    def page(self, page: DictionaryObject) -> IndirectObject:
        new = self.writer.allocate()
        copied = DictionaryObject(
            {NameObject(k): self.copy(v) for k, v in page.items() if k != "/Parent"}
        )
        copied[NameObject("/Parent")] = _ref(_PAGES)
        self.writer.write(new.idnum, copied)
        self.drain()
        return new

    def reference(self, ref: IndirectObject) -> IndirectObject:
        new = self.numbers.get(ref.idnum)
        if new is None:
            new = self.numbers[ref.idnum] = self.writer.allocate()
            self.waiting.append((ref, new))
        return new

    def copy(self, obj):
        if isinstance(obj, IndirectObject):
            return self.reference(obj)
        if isinstance(obj, StreamObject):
            stream = StreamObject()  # its dictionary, then its bytes as they are (still encoded)
            stream.update({NameObject(k): self.copy(v) for k, v in obj.items() if k != "/Length"})
            stream._data = obj._data  # where pypdf keeps a read stream's encoded bytes
            return stream
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(k): self.copy(v) for k, v in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(v) for v in obj)
        return obj

    def drain(self) -> None:
        while self.waiting:
            old, new = self.waiting.pop()
            self.writer.write(new.idnum, self.copy(old.get_object()))

    def finish(self) -> None:
        self.drain()


def _ref(number: int) -> IndirectObject:
    # Written as "n 0 R"; no document is needed to write a reference, only to follow one.
    return IndirectObject(number, 0, None)
