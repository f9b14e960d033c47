"""`dandelion crypto migrate`: every stored secret and lookup hash under the configured family.

Run with the app and workers stopped. Each step is idempotent and commits as it goes, so a run
killed midway is finished by running it again: a ciphertext names its family (app.security),
so what is done already is left alone; a lookup hash is recomputed from the value it hashes and
written only where it differs; a file is replaced whole (a temporary file, then a rename).
crypto_state names the new family last, once nothing is left under the old one.
"""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel, col, select

from app.audit import service as audit
from app.auth.models import LoginLock, ThrottleEvent, User
from app.enrollments.models import Enrollment
from app.exports import service as exports
from app.me.models import TraineeCode, TraineeSession
from app.retention import crypto
from app.security import NATIONAL, SM4_PREFIX, Keys, keys_of
from app.trainees.models import Trainee

BATCH = 500
# Every column holding Keys.encrypt's output. A new one belongs here.
SEALED_COLUMNS: tuple[tuple[type[SQLModel], str], ...] = (
    (Trainee, "id_encrypted"),
    (Enrollment, "mobile_encrypted"),
    (Enrollment, "email_encrypted"),
    (User, "totp_secret"),
)
# Short-lived rows keyed by lookup hashes (attempts, lock-outs, one-time codes, trainees'
# sessions): dropped rather than recomputed, since what they hash is not stored. Trainees
# signed in sign in again; throttles and lock-outs start afresh.
SHORT_LIVED = (ThrottleEvent, LoginLock, TraineeCode, TraineeSession)
# Folders of the data folder whose files hold Keys.encrypt_bytes' output.
SEALED_FOLDERS = ("uploads", exports.FOLDER)


@dataclass
class Migrated:
    values: dict[str, int] = field(default_factory=dict)  # by table.column
    hashes: int = 0
    files: int = 0
    dropped: int = 0


def migrate(session: Session, data_dir: Path) -> Migrated:
    """Re-encrypt and re-hash everything under the session's keys' family; commits."""
    keys = keys_of(session)
    done = Migrated()
    for model, name in SEALED_COLUMNS:
        done.values[f"{model.__tablename__}.{name}"] = _reseal_column(session, keys, model, name)
    done.hashes = _rehash_trainees(session, keys)
    done.files = sum(_reseal_folder(data_dir / folder, keys) for folder in SEALED_FOLDERS)
    for model in SHORT_LIVED:
        done.dropped += session.execute(delete(model)).rowcount  # type: ignore[attr-defined]
    crypto.record(session, keys.crypto)
    audit.record(
        session,
        "cli",
        "crypto.migrate",
        "crypto_state",
        1,
        algorithm=keys.crypto,
        values=sum(done.values.values()),
        hashes=done.hashes,
        files=done.files,
        dropped=done.dropped,
    )
    session.commit()
    return done


def _reseal_column(session: Session, keys: Keys, model: type[SQLModel], name: str) -> int:
    """Values still under the other family, a batch at a time, each batch committed."""
    table = model.__table__  # type: ignore[attr-defined]  # every table model has one
    column, row_id_of = table.c[name], table.c.id
    national = column.startswith(SM4_PREFIX)
    other = ~national if keys.crypto == NATIONAL else national
    count, after = 0, 0
    while True:
        rows = session.exec(
            select(row_id_of, column)
            .where(row_id_of > after, column.is_not(None), other)
            .order_by(row_id_of)
            .limit(BATCH)
        ).all()
        if not rows:
            return count
        for row_id, value in rows:
            session.execute(
                update(table)
                .where(row_id_of == row_id)
                .values({name: keys.encrypt(keys.decrypt(value))})
            )
        session.commit()
        count += len(rows)
        after = id_of_row(rows[-1][0])


def _rehash_trainees(session: Session, keys: Keys) -> int:
    """Each trainee's id_hash from the ID number it hashes, where it differs."""
    count, after = 0, 0
    while True:
        rows = session.exec(
            select(Trainee.id, Trainee.id_hash, Trainee.id_encrypted)
            .where(col(Trainee.id) > after)
            .order_by(col(Trainee.id))
            .limit(BATCH)
        ).all()
        if not rows:
            return count
        for trainee_id, stored, sealed in rows:
            wanted = keys.lookup_hash(keys.decrypt(sealed))
            if wanted != stored:
                session.execute(
                    update(Trainee).where(col(Trainee.id) == trainee_id).values(id_hash=wanted)
                )
                count += 1
        session.commit()
        after = id_of_row(rows[-1][0])


def _reseal_folder(folder: Path, keys: Keys) -> int:
    if not folder.is_dir():
        return 0
    count = 0
    for path in sorted(folder.rglob("*.enc")):
        sealed = path.read_bytes()
        if keys.is_current(sealed):
            continue
        _replace(path, keys.encrypt_bytes(keys.decrypt_bytes(sealed)))
        count += 1
    return count


def id_of_row(value: int | None) -> int:
    assert value is not None  # read from a primary key
    return value


def _replace(path: Path, data: bytes) -> None:
    """Whole or not at all: a kill midway leaves the old file, which the next run redoes."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".partial", delete=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    stat = path.stat()
    Path(f.name).replace(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its age is what retention reads
