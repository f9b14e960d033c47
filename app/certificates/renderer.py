"""Many certificates at once: a pool of renderer processes, each with its fonts loaded once.

A process prints one certificate at a time (WeasyPrint is single-threaded, and a process's
fonts are shared under a lock), so batches and print runs use every core through child
processes. They are spawned, not forked: a fork would copy the parent's threads and
database connections. The processes are replaced after about RECYCLE_AFTER certificates each,
so whatever WeasyPrint keeps between renders cannot grow without limit. (Not with
max_tasks_per_child: before Python 3.13.x it deadlocks a pool with queued tasks once a worker
reaches its limit, CPython issue 115634.)

Spawned processes import the caller's main module again, as multiprocessing does: a script
that prints certificates keeps its work under `if __name__ == "__main__":` (the `dandelion`
command, uvicorn and pytest do).
"""

import os
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from app.certificates import merge, pdf

# Certificates a task carries: enough to make the round trip cheap, few enough to spread a
# small batch over every process.
TASK = 8
# Certificates (or print-run pages) a renderer process prints before the pool is replaced,
# about: the next batch after that starts fresh processes, the running one finishes.
RECYCLE_AFTER = 1000
# Pages of a print run written as one PDF by one process (fonts shared across them), at most;
# the chunks are then joined. A process holds a chunk's pages laid out at once, about 0.8 MB
# each, so this bounds its memory (the goal is 300 MB).
PRINT_CHUNK = 100

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_printed = 0  # by the current pool's processes, together


def render_many(
    views: Sequence[pdf.CertificateView], design: str = "classic"
) -> list[bytes | Exception]:
    """Each certificate's PDF, in the order given; a certificate that cannot be printed has
    its exception in its place (UnprintableText, PrintingUnavailable, ...), and the others
    are printed all the same."""
    if not views:
        return []
    size = max(1, min(TASK, -(-len(views) // (2 * _workers()))))
    tasks = [list(views[i : i + size]) for i in range(0, len(views), size)]
    futures = _submit_all(_render_task, [(task, design) for task in tasks], len(views))
    results: list[bytes | Exception] = []
    for task, future in zip(tasks, futures, strict=True):
        try:
            results += future.result()
        except BrokenProcessPool as exc:  # a renderer died (killed, out of memory)
            _discard_pool()
            results += [exc] * len(task)
    return results


def render_print_run(
    views: Sequence[pdf.CertificateView],
    target: Path,
    design: str = "classic",
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write one PDF of every certificate, a page each and in order, to target; returns the
    pages written. progress(pages done) is called as chunks finish. Nothing is left at
    target unless every page printed: the first failure is raised."""
    if not views:
        raise ValueError("a print run needs at least one certificate")
    size = min(PRINT_CHUNK, -(-len(views) // _workers()))  # every process gets a share
    chunks = [list(views[i : i + size]) for i in range(0, len(views), size)]
    parts = [target.with_name(f".{target.name}.{n}.part") for n in range(len(chunks))]
    try:
        arguments = [(chunk, design, part) for chunk, part in zip(chunks, parts, strict=True)]
        futures = _submit_all(_print_chunk, arguments, len(views))
        done = 0
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                future.result()
            except BrokenProcessPool:
                _discard_pool()
                raise
            done += len(chunk)
            if progress:
                progress(done)
        _join(parts, target)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return len(views)


def shutdown() -> None:
    """Stop the renderer processes (they stop with this process anyway)."""
    _discard_pool()


def _workers() -> int:
    return os.cpu_count() or 1


def _submit_all(function, arguments: list[tuple], certificates: int) -> list[Future]:
    global _pool, _printed
    with _lock:
        if _pool is not None and _printed >= RECYCLE_AFTER * _workers():
            _pool.shutdown(wait=False)  # what it runs still finishes, in the old processes
            _pool = None
        if _pool is None:
            _pool = ProcessPoolExecutor(
                _workers(), mp_context=get_context("spawn"), initializer=_warm
            )
            _printed = 0
        _printed += certificates
        return [_pool.submit(function, *args) for args in arguments]


def _discard_pool() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _warm() -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        pdf.prepare()
    except Exception:  # each certificate will say why on its own; the pool must live
        return


def _exit_with_parent(parent: int) -> None:
    """A renderer outlives nothing: when the process that started it is gone (a worker killed
    with SIGKILL cannot stop its pool), it exits within a second instead of idling forever.
    Polled, not PR_SET_PDEATHSIG, which fires when the starting *thread* ends."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _render_task(views: list[pdf.CertificateView], design: str) -> list[bytes | Exception]:
    results: list[bytes | Exception] = []
    for view in views:
        try:
            results.append(pdf.render_pdf(view, design))
        except Exception as exc:  # one certificate's failure is its own answer
            results.append(_portable(exc))
    return results


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives the trip back to the parent, else its text: an
    exception that cannot be unpickled would break every other result of the task."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _print_chunk(views: list[pdf.CertificateView], design: str, part: Path) -> None:
    part.write_bytes(pdf.merged_pdf(views, design))


def _join(parts: list[Path], target: Path) -> None:
    temp = target.with_name(f".{target.name}.tmp")
    try:
        if len(parts) == 1:
            parts[0].replace(temp)
        else:
            merge.join_pdfs(parts, temp)
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)
