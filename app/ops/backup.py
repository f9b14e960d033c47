"""A backup of one installation: its database, then the files of its data folder, and a
manifest with each file's SHA-256, written last (a backup without one was never finished).

The database is copied first, while the server runs: SQLite through its online backup API
(one consistent snapshot, readers and the WAL's writers carry on), PostgreSQL by pg_dump.
Every file a snapshot's record names was on disk before that record was committed
(certificates' PDFs, seals, originals, print runs, exports), so copying the files afterwards
finds them all; a file written later only has no record, and the start-up sweep removes it.

Huey's queue (huey.db) is left out: it only says "work on job N", the job tables are the
record, and every `dandelion worker` queues the unfinished jobs again when it starts.
"""

import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from app.clock import now

MANIFEST = "manifest.json"
DATABASE = "dandelion.db"  # the SQLite snapshot
DUMP = "database.dump"  # pg_dump's custom format
FILES = "files"
SECRET_KEY = "secret_key"  # app/config.py keeps a generated key in the data folder
QUEUE = "huey.db"
FORMAT = 1


class BackupError(Exception):
    """What keeps a backup or a restore from going on: the message says what to do."""


@dataclass
class Report:
    files: int = 0
    holds_secret_key: bool = False
    database: str = ""  # what holds the database: a file of the backup, or nothing
    commands: list[str] = field(default_factory=list)  # what the operator still has to run
    skipped: list[str] = field(default_factory=list)  # files gone while they were copied


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """The database's address for pg_dump and pg_restore, and the password as PGPASSWORD:
    never on a command line, which every user of the machine can read."""
    url = make_url(database_url)
    password = url.password
    plain = url.set(drivername="postgresql", password=None).render_as_string()
    return plain, ({"PGPASSWORD": str(password)} if password else {})


def _database_files(database_url: str, data_dir: Path) -> set[Path]:
    """The live database and queue with their journals: copied by their own means, or not."""
    found = {data_dir / QUEUE}
    database = sqlite_path(database_url)
    if database is not None:
        found.add(database.resolve())
    return {Path(f"{p}{suffix}") for p in found for suffix in ("", "-wal", "-shm", "-journal")}


def data_files(data_dir: Path, database_url: str) -> list[Path]:
    """The data folder's files, relative to it, in a stable order."""
    leave_out = _database_files(database_url, data_dir)
    found = []
    for folder, subfolders, names in os.walk(data_dir):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.resolve() not in leave_out and path.is_file():
                found.append(path.relative_to(data_dir))
    return found


def copy_hashed(source: Path, target: Path) -> str:
    """Copies one file, its mode kept (the secret key stays 0600), and returns the SHA-256 of
    what was written, read as it was copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    shutil.copymode(source, target)
    return digest.hexdigest()


def snapshot_sqlite(database: Path, target: Path) -> None:
    if not database.is_file():
        raise BackupError(f"the database {database} does not exist")
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()


def run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def shell_line(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


def write_manifest(target: Path, database: dict, files: dict[str, dict]) -> None:
    manifest = {"format": FORMAT, "made": now().isoformat(), "database": database, "files": files}
    path = target / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def read_manifest(source: Path) -> dict:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: it is no backup, or an unfinished one")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a manifest of format {FORMAT}")
    return manifest


def problems(source: Path, manifest: dict) -> list[str]:
    """Every file the manifest lists that is missing or not what was backed up."""
    listed = dict(manifest.get("files", {}))
    database = manifest.get("database", {})
    if database.get("file"):
        listed[database["file"]] = {"sha256": database.get("sha256")}
    found = []
    for name, entry in sorted(listed.items()):
        path = (source / name).resolve()
        if not path.is_relative_to(source.resolve()):
            found.append(f"{name}: outside the backup")
        elif not path.is_file():
            found.append(f"{name}: missing")
        elif sha256_of(path) != entry.get("sha256"):
            found.append(f"{name}: corrupt (its SHA-256 differs from the manifest's)")
    return found


def back_up(data_dir: Path, database_url: str, target: Path) -> Report:
    """Into target, a folder that is new or empty and outside the data folder."""
    data_dir, target = data_dir.resolve(), target.resolve()
    if target == data_dir or target.is_relative_to(data_dir):
        raise BackupError(f"{target} is inside the data folder {data_dir}: choose another")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty folder: a backup never overwrites one")
    target.mkdir(parents=True, exist_ok=True)
    report = Report()
    database = _back_up_database(database_url, target, report)  # first: files follow records
    files = {}
    for relative in data_files(data_dir, database_url):
        try:
            sha = copy_hashed(data_dir / relative, target / FILES / relative)
        except FileNotFoundError:  # deleted meanwhile (a finished print run's parts)
            report.skipped.append(str(relative))
            continue
        files[(Path(FILES) / relative).as_posix()] = {"sha256": sha}
        report.holds_secret_key |= relative == Path(SECRET_KEY)
    report.files = len(files)
    write_manifest(target, database, files)
    return report


def _back_up_database(database_url: str, target: Path, report: Report) -> dict:
    database = sqlite_path(database_url)
    if database is not None:
        snapshot_sqlite(database, target / DATABASE)
        report.database = DATABASE
        return {"kind": "sqlite", "file": DATABASE, "sha256": sha256_of(target / DATABASE)}
    url, env = libpq_url(database_url)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target / DUMP}", url]
    if shutil.which("pg_dump") is None:
        report.commands.append(shell_line(command))
        return {"kind": "postgresql", "file": None}
    run(command, env)
    report.database = DUMP
    return {"kind": "postgresql", "file": DUMP, "sha256": sha256_of(target / DUMP)}
