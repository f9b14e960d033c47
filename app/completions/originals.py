"""Uploaded files as they came, kept encrypted at rest: they hold ID numbers in clear.

The error report is read back from them; a sweep at start removes those no batch names.
"""

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.completions.models import CompletionBatch
from app.security import Keys


def path_of(data_dir: Path, sha256: str, fmt: str) -> Path:
    return data_dir / "uploads" / sha256[:2] / f"{sha256}.{fmt}.enc"


def keep(data_dir: Path, sha256: str, fmt: str, data: bytes, *, keys: Keys) -> None:
    """Stored by content, so the same file uploaded twice is kept once; encrypted at rest,
    because the file holds ID numbers in clear."""
    path = path_of(data_dir, sha256, fmt)
    if path.exists():
        # Touched, so that a sweep (which spares young files) cannot take it before the batch
        # that names it again is committed.
        os.utime(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary file of its own: two uploads of the same file may run at once.
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".partial", delete=False) as f:
            f.write(keys.encrypt_bytes(data))
        Path(f.name).replace(path)


def sweep_orphans(
    session: Session, data_dir: Path, *, grace: timedelta = timedelta(hours=1)
) -> int:
    """Delete uploaded originals that no batch names (an upload refused or killed after the
    file was kept: it holds ID numbers) and half-written temporary files; returns how many.
    Files younger than grace are left alone: another instance may be about to commit them."""
    folder = data_dir / "uploads"
    if not folder.is_dir():
        return 0
    cutoff = time.time() - grace.total_seconds()
    # Listed before the rows are read, so a batch committed meanwhile is seen by the query.
    files = [p for p in folder.rglob("*") if p.is_file() and _mtime(p) < cutoff]
    named = {
        path_of(data_dir, sha, fmt)
        for sha, fmt in session.exec(select(CompletionBatch.sha256, CompletionBatch.format))
    }
    removed = 0
    for path in files:
        if path not in named:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # another instance swept it first
        return float("inf")


def read(batch: CompletionBatch, data_dir: Path, *, keys: Keys) -> bytes:
    return keys.decrypt_bytes(path_of(data_dir, batch.sha256, batch.format).read_bytes())
