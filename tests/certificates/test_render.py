"""Many certificates at once: render_many through the renderer processes, and print runs as
one merged document. PDFs are read back with pypdf."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from app.certificates import renderer
from app.certificates.pdf import UnprintableText
from app.certificates.serials import format_serial, new_serial
from tests.certificates.test_pdf import BASE_VIEW, pdftotext

ROOT = Path(__file__).resolve().parents[2]

NAMES = ["王建国", "李䶮", "张秀英", "𠮷田", "阿依古丽·买买提", "赵志强", "孙丽娟"]


def views(names: list[str]):
    return [replace(BASE_VIEW, serial=new_serial(2026), holder_name=name) for name in names]


def text_of(page) -> str:
    return " ".join(page.extract_text().split())


def pages_of(data: bytes):
    return pypdf.PdfReader(io.BytesIO(data)).pages


def test_render_many_returns_each_certificate_in_order():
    batch = views(NAMES)
    results = renderer.render_many(batch)
    assert len(results) == len(batch)
    for view, result in zip(batch, results, strict=True):
        assert isinstance(result, bytes), result
        [page] = pages_of(result)
        text = text_of(page)
        assert view.holder_name in text
        assert format_serial(view.serial) in text


def test_a_failed_certificate_is_reported_in_its_place_and_the_others_print():
    batch = views(["王建国", "李\ue000", "张秀英"])
    first, failed, last = renderer.render_many(batch)
    assert isinstance(failed, UnprintableText)
    assert failed.chars == ["\ue000"]  # the exception crossed from the renderer intact
    assert "U+E000" in failed.params["chars"]
    assert "王建国" in text_of(pages_of(first)[0])
    assert "张秀英" in text_of(pages_of(last)[0])


def test_render_many_of_nothing_is_nothing():
    assert renderer.render_many([]) == []


def embedded_font_files(reader: pypdf.PdfReader) -> set:
    files = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            stream = descriptor.get_object().get("/FontFile3") or descriptor["/FontFile2"]
            files.add(stream.idnum)
    return files


def test_a_print_run_is_one_document_with_its_fonts_shared(tmp_path):
    processes = os.cpu_count() or 1
    names = ["王建国", "张秀英", "赵志强", "孙丽娟", "刘洋", "陈静", "李四海", "周芳"]
    batch = views([names[i % 8] for i in range(2 * processes + 2)])
    target = tmp_path / "run.pdf"
    done = []
    assert renderer.render_print_run(batch, target, progress=done.append) == len(batch)
    reader = pypdf.PdfReader(target)
    assert len(reader.pages) == len(batch)
    for view, page in zip(batch, reader.pages, strict=True):
        assert view.holder_name in text_of(page)
    # A regular and a bold copy for each renderer process's share of the pages at most,
    # not a pair per certificate as separate PDFs joined would carry.
    assert len(embedded_font_files(reader)) <= 2 * processes < 2 * len(batch)
    assert done[-1] == len(batch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pdf"]


def test_a_long_print_run_is_printed_in_chunks_joined_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(renderer, "PRINT_CHUNK", 2)
    batch = views(["王建国", "张秀英", "赵志强", "孙丽娟", "刘洋"])
    target = tmp_path / "run.pdf"
    done = []
    renderer.render_print_run(batch, target, progress=done.append)
    reader = pypdf.PdfReader(target)
    assert len(reader.pages) == 5
    for view, page in zip(batch, reader.pages, strict=True):
        assert format_serial(view.serial) in text_of(page)
    assert done == [2, 4, 5]
    # Fonts are shared within a chunk: a regular and a bold copy for each of the 3 chunks.
    assert len(embedded_font_files(reader)) == 2 * 3
    assert reader.metadata.title == "结业证书"  # the run's, not its first certificate's
    # Poppler reads the joined file too, every page in order.
    text = " ".join(pdftotext(target.read_bytes()).split())
    positions = [text.index(format_serial(view.serial)) for view in batch]
    assert positions == sorted(positions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pdf"]


def test_a_print_run_with_an_unprintable_name_writes_nothing(tmp_path):
    target = tmp_path / "run.pdf"
    with pytest.raises(UnprintableText):
        renderer.render_print_run(views(["王建国", "李\ue000"]), target)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_print_run_is_refused(tmp_path):
    with pytest.raises(ValueError):
        renderer.render_print_run([], tmp_path / "run.pdf")
    assert list(tmp_path.iterdir()) == []


def renderer_processes() -> set[int]:
    """This process's spawned children, as the operating system lists them."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            ppid = next(
                line.split()[1]
                for line in (entry / "status").read_text().splitlines()
                if line.startswith("PPid:")
            )
            spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
        except (OSError, StopIteration):
            continue
        if int(ppid) == os.getpid() and spawned:
            found.add(int(entry.name))
    return found


def test_renderer_processes_are_replaced_after_their_share(monkeypatch):
    renderer.render_many(views(["王建国"]))
    monkeypatch.setattr(renderer, "RECYCLE_AFTER", 1)
    renderer.render_many(views(["王建国", "张秀英"]))  # the pool has now printed its share
    before = renderer_processes()
    results = renderer.render_many(views(["赵志强", "孙丽娟"]))
    assert all(isinstance(r, bytes) for r in results)
    assert renderer_processes() - before  # printed by new processes


def test_a_killed_renderer_fails_its_certificates_and_the_next_batch_prints():
    renderer.render_many(views(["王建国", "张秀英"]))  # the processes are up
    batch = views(["赵志强"] * 60)  # a few seconds of work
    results: list = []
    running = threading.Thread(target=lambda: results.extend(renderer.render_many(batch)))
    running.start()
    time.sleep(0.5)
    victim = min(renderer_processes())
    os.kill(victim, signal.SIGKILL)  # out of memory, say
    running.join(timeout=120)
    assert len(results) == len(batch)  # every certificate has its answer, in its place
    assert any(isinstance(r, BrokenProcessPool) for r in results)
    [again] = renderer.render_many(views(["孙丽娟"]))  # new processes took over
    assert "孙丽娟" in text_of(pages_of(again)[0])


RENDER_THEN_WAIT = """
import sys, time
from app.certificates import renderer
from tests.certificates.test_pdf import BASE_VIEW

if __name__ == "__main__":
    renderer.render_many([BASE_VIEW])
    print("rendered", flush=True)
    time.sleep(600)
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:  # the field after the state is the parent's pid
            found.append(int(stat.parent.name))
    return found


def test_renderers_exit_when_their_worker_is_killed(tmp_path):
    script = tmp_path / "render_then_wait.py"
    script.write_text(RENDER_THEN_WAIT)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "rendered"
        renderers = _children(parent.pid)
        assert renderers  # the pool's processes (and the spawn resource tracker)
        os.kill(parent.pid, signal.SIGKILL)  # as the OOM killer or an operator's kill -9 does
        parent.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in renderers):
            time.sleep(0.2)
        left = [
            p
            for p in renderers
            if Path(f"/proc/{p}/stat").exists()
            and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        ]
        assert left == []
    finally:
        parent.kill()
