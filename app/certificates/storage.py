"""Where certificate PDFs are kept, and how one reaches its name only once its row is committed.

A PDF holds its holder's full name. It is written under a temporary name, moved into place by
the commit that stores its certificate and deleted when that transaction ends otherwise. A
process killed in between leaves only temporary files, named after their process, which
service.sweep_orphans removes (or, once the row is committed, moves into place) at the next start.
"""

import logging
import os
import re
import socket
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

FOLDER = "certificates"
TEMP_PREFIX = ".tmp-"
_PENDING = "dandelion.certificates.pending"  # in Session.info: [(temporary, final path)]
log = logging.getLogger(__name__)


def final_path(year: int, serial: str) -> Path:
    """Relative to the data folder, as Certificate.pdf_path stores it."""
    return Path(FOLDER) / str(year) / f"{serial}.pdf"


def host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())


def temp_path(data_dir: Path, serial: str) -> Path:
    # The owner's pid and host in the name tell a sweep whether its writer is still alive.
    # Beside the final folders, so that os.replace stays on one file system.
    return data_dir / FOLDER / f"{TEMP_PREFIX}{os.getpid()}@{host()}-{serial}.pdf"


def write_temp(data_dir: Path, serial: str, content: bytes) -> Path:
    path = temp_path(data_dir, serial)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())  # on disk before the row that promises it is committed
    return path


def publish_on_commit(session: Session, temp: Path, final: Path) -> None:
    session.info.setdefault(_PENDING, []).append((temp, final))


def discard(session: Session, temp: Path) -> None:
    """A staged PDF that will not be stored after all: gone now, not moved by the commit."""
    pending = session.info.get(_PENDING, [])
    session.info[_PENDING] = [(t, final) for t, final in pending if t != temp]
    temp.unlink(missing_ok=True)


def move_into_place(temp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, final)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not yet committed
        return
    for temp, final in session.info.pop(_PENDING, []):
        try:
            move_into_place(temp, final)
        except OSError:
            # The row is committed and the bytes are on disk: the next sweep finishes the move.
            log.exception("could not move certificate PDF %s into place", final.name)


@event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction: SessionTransaction) -> None:
    # After a commit nothing is left pending; otherwise the rows never existed.
    if transaction.parent is None:
        for temp, _final in session.info.pop(_PENDING, []):
            temp.unlink(missing_ok=True)


def listing(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """Temporary files and final PDFs under the certificates folder."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return [], []
    temps = sorted(folder.glob(f"{TEMP_PREFIX}*.pdf"))
    finals = sorted(p for p in folder.rglob("*.pdf") if not p.name.startswith(TEMP_PREFIX))
    return temps, finals


def serial_of(temp: Path) -> str:
    return temp.name.removesuffix(".pdf").rsplit("-", 1)[-1]


def abandoned(temp: Path, grace: timedelta) -> bool:
    """Whether the process that wrote temp is gone: dead on this host, or silent for too long
    (a process on another host sharing the data folder cannot be asked)."""
    owner = temp.name[len(TEMP_PREFIX) :].rsplit("-", 1)[0]
    pid, _, owner_host = owner.partition("@")
    if owner_host == host() and pid.isdigit() and not _alive(int(pid)):
        return True
    try:
        return time.time() - temp.stat().st_mtime > grace.total_seconds()
    except FileNotFoundError:  # its writer just published or discarded it
        return False


def _alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negative numbers name process groups, not a process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
