"""A backup (app/ops/backup.py) put back: every file checked against the manifest before
anything is written, then the database, then the files. The server must be stopped."""

import os
import shutil
from pathlib import Path

from sqlalchemy import inspect

from app.db import make_engine
from app.ops.backup import (
    FILES,
    SECRET_KEY,
    BackupError,
    Report,
    copy_hashed,
    libpq_url,
    problems,
    read_manifest,
    run,
    shell_line,
    sqlite_path,
)


def restore(source: Path, data_dir: Path, database_url: str, *, force: bool) -> Report:
    source = source.resolve()
    manifest = read_manifest(source)
    found = problems(source, manifest)
    if found:
        raise BackupError("the backup is damaged, nothing was restored:\n" + "\n".join(found))
    database = manifest.get("database", {})
    kind = "sqlite" if sqlite_path(database_url) is not None else "postgresql"
    if database.get("kind") != kind:
        raise BackupError(
            f"the backup holds a {database.get('kind')} database, "
            f"but DANDELION_DATABASE_URL names {kind}"
        )
    if not force and _in_use(data_dir, database_url):
        raise BackupError(
            f"the data folder {data_dir} or the database is not empty: "
            "restore into a new installation, or pass --force to overwrite it"
        )
    report = Report()
    if database.get("file"):
        _restore_database(source / database["file"], database_url, report)
    else:
        report.commands.append("the backup holds no database: restore it with pg_restore")
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(manifest.get("files", {})):
        relative = Path(name).relative_to(FILES)
        _put(source / name, data_dir / relative)
        report.files += 1
        report.holds_secret_key |= relative == Path(SECRET_KEY)
    return report


def _in_use(data_dir: Path, database_url: str) -> bool:
    if data_dir.is_dir() and any(data_dir.iterdir()):
        return True
    database = sqlite_path(database_url)
    if database is not None:
        return database.exists()
    engine = make_engine(database_url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _restore_database(backup: Path, database_url: str, report: Report) -> None:
    database = sqlite_path(database_url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        # An old WAL beside the new file would be replayed into it at the next open.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        _put(backup, database)
        report.database = str(database)
        return
    url, env = libpq_url(database_url)
    command = [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={url}",
        str(backup),
    ]
    if shutil.which("pg_restore") is None:
        report.commands.append(shell_line(command))
        return
    run(command, env)
    report.database = url


def _put(source: Path, target: Path) -> None:
    """Written beside the target, then moved into place: never half a file under its name."""
    partial = target.with_name(f".restoring-{target.name}")
    copy_hashed(source, partial)
    os.replace(partial, target)
