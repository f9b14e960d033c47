"""No PDF holding a holder's name outlives its certificate row: not a rollback, not a kill -9."""

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from app import clock
from app.certificates import issuing, service, storage
from app.certificates.models import Certificate
from tests.conftest import environment_of

ROOT = Path(__file__).resolve().parents[2]

# Runs the course's issuing job in a process of its own and stalls just before the commit of
# the item named (1 or 2), so that the test can kill it there with SIGKILL: no handler, no
# cleanup, like a crash.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import app.models
    from app.certificates import issuing
    from app.config import get_settings
    from app.courses.models import Course
    from app.db import sessions_for
    from app.jobs import runner
    from app.jobs import service as jobs

    marker, course_id, stall_at = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    real_mark_done, done = jobs.mark_done, []

    def mark_done(*args, **kwargs):  # the item's row is flushed; its commit comes next
        real_mark_done(*args, **kwargs)
        done.append(args)
        if len(done) == stall_at:
            marker.write_text("stalled")
            time.sleep(3600)

    jobs.mark_done = mark_done
    settings = get_settings()
    sessions = sessions_for(settings)
    with sessions() as session:
        job = issuing.start(session, session.get(Course, course_id), actor="test")
        session.commit()
    runner.run(sessions, settings, job.id)
""")


def _pdfs(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "certificates").rglob("*.pdf"))


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def _issue_in_a_child_and_kill_it(settings, course, stall_at: int, tmp_path: Path) -> None:
    marker = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), str(course.id), str(stall_at)],
        cwd=ROOT,
        env=environment_of(settings),
        stderr=subprocess.PIPE,
    )
    try:
        while not marker.exists():  # waits for the child, however slow; asserts no timing
            if child.poll() is not None:
                pytest.fail(f"the issuing process ended early: {child.stderr.read().decode()}")
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()


@pytest.mark.parametrize("stall_at", [1, 2])
def test_an_issue_killed_midway_leaves_no_pdf_after_the_sweep(
    settings, new_session, completed, tmp_path, stall_at
):
    """Killed before the commit of its first or its second item: what was committed stays,
    the PDF of the item that was not is swept away."""
    _issue_in_a_child_and_kill_it(settings, completed["course"], stall_at, tmp_path)
    with new_session() as fresh:
        kept = fresh.exec(select(Certificate)).all()
    assert len(kept) == stall_at - 1
    temps = [p for p in _pdfs(settings.data_dir) if p.name.startswith(storage.TEMP_PREFIX)]
    # What the killed process wrote really holds a name, and only under a temporary name.
    assert len(temps) == 1 and any(name in _text(temps[0]) for name in ("李䶮", "𠮷田"))
    with new_session() as fresh:  # as at the next start: a new session
        service.sweep_orphans(fresh, settings.data_dir)
    assert _pdfs(settings.data_dir) == sorted(settings.data_dir / c.pdf_path for c in kept)


def _issue(session, settings, course) -> list[Certificate]:
    """Every pending certificate of the course, issued in this session, not committed."""
    serials = [
        issuing.issue_one(
            session,
            completion,
            public_url="http://t",
            data_dir=settings.data_dir,
            today=clock.today(),
        )
        for completion in issuing.pending_completions(session, course)
    ]
    return [session.exec(select(Certificate).where(Certificate.serial == s)).one() for s in serials]


def test_pdfs_of_issues_that_are_never_committed_are_removed(settings, session, completed):
    issued = _issue(session, settings, completed["course"])
    assert len(issued) == 2
    assert not any((settings.data_dir / c.pdf_path).exists() for c in issued)  # not yet
    session.rollback()
    assert _pdfs(settings.data_dir) == []


def test_committed_issues_are_moved_into_place(client, settings, session, completed):
    issued = _issue(session, settings, completed["course"])
    session.commit()
    assert _pdfs(settings.data_dir) == sorted(settings.data_dir / c.pdf_path for c in issued)
    assert all(service.pdf_bytes(c, settings.data_dir) for c in issued)


def _reaped_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _as_temp_of(pid: int, data_dir: Path, cert: Certificate) -> Path:
    """Moves a published PDF back to the temporary name process pid would have given it."""
    temp = storage.temp_path(data_dir, cert.serial)
    temp = temp.with_name(
        temp.name.replace(f"{storage.TEMP_PREFIX}{os.getpid()}@", f"{storage.TEMP_PREFIX}{pid}@")
    )
    os.replace(data_dir / cert.pdf_path, temp)
    return temp


def test_the_sweep_keeps_what_rows_name_and_removes_the_rest(
    settings, session, new_session, completed
):
    kept, moved = _issue(session, settings, completed["course"])
    session.commit()
    data_dir = settings.data_dir
    # A PDF left by the old code (written before its row, which never came) ...
    stray = data_dir / "certificates" / "2020" / "DL20ABCDEFGH1.pdf"
    stray.parent.mkdir(parents=True)
    shutil.copy(data_dir / kept.pdf_path, stray)
    # ... a move that a kill interrupted after its row was committed ...
    interrupted = _as_temp_of(_reaped_pid(), data_dir, moved)
    # ... and a live issue of this very process, still rendering.
    live = storage.temp_path(data_dir, "DL26ZZZZZZZZ0")
    live.write_bytes(b"%PDF-1.7 rendering")
    with new_session() as fresh:
        service.sweep_orphans(fresh, data_dir)
    assert not stray.exists() and not interrupted.exists() and live.exists()
    assert service.pdf_bytes(kept, data_dir) and service.pdf_bytes(moved, data_dir)
    assert _pdfs(data_dir) == sorted([live, data_dir / kept.pdf_path, data_dir / moved.pdf_path])
