"""Engine and sessions: SQLite by default, PostgreSQL (psycopg 3) in production."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import Engine, any_, bindparam, cast, event, func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        _make_folder_of(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: a database error must not write names or ID hashes into the logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def _make_folder_of(url: str) -> None:
    # SQLite creates the file but not its folder: a first start on an empty data folder
    # (a production volume, say) would fail with "unable to open database file".
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web server read while an upload writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine, keys) -> sessionmaker[Session]:
    """Sessions of one installation: they carry its keys (app.security.keys_of), which
    services need to hash, encrypt and sign what they store."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False, info={"keys": keys})


def sessions_for(settings) -> sessionmaker[Session]:
    """For commands and workers, which have no app: their own engine, the same keys."""
    from app.security import keys_of_settings

    return session_factory(make_engine(settings.database_url), keys_of_settings(settings))


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Row) -> int:
    """The id of a stored row. A table model's id is None until its INSERT is flushed, so
    asking for it earlier is a mistake in the code, never something a user did."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: it was never flushed")
    return row.id


def utcnow() -> datetime:
    """Aware UTC: SQLModel stores datetimes as UTC on SQLite and PostgreSQL alike."""
    return datetime.now(UTC)


# The writer section. SQLite lets one connection write at a time, from its first write to its
# commit; the others wait in its busy handler, which sleeps and polls (1, 2, 5 ... 100 ms), so
# under a crowd a request could wait a second for a lock freed long before. Requests of this
# process therefore take the database's lock in turn (a queue, not sleeps) and hold it only for
# their writes and commit: the work that needs no lock (validation, hashing, encryption, the
# look-ups of what cannot change under them) is done before. Other processes (the worker, the
# CLI) still meet the busy handler, rarely. On PostgreSQL the requests of a crowd write the
# same few rows (the course's seats, the goal counters) and wait for each other's row locks
# anyway; queued here instead, 16 clients enrolling saw a p99 of 0.6 s instead of 1.5 s
# (bench/enroll_concurrency.py), and other processes still meet the row locks.
_writers: dict[str, threading.RLock] = {}
_writers_guard = threading.Lock()


def _writer_of(engine: Engine) -> threading.RLock:
    key = str(engine.url)  # engines of one file (two apps in one process) share its lock
    with _writers_guard:
        return _writers.setdefault(key, threading.RLock())


@contextmanager
def writing(session: Session) -> Iterator[None]:
    """The block's writes and their commit, in turn with the other requests of this process.
    Committed when the block ends; rolled back if it raises, so that no transaction holds a
    write lock after the section is left."""
    # The connection of the reads before goes back to the pool while this request waits:
    # waiters holding every pooled connection would leave none for the one writing (it takes
    # one again after each commit), and all would wait for the pool's timeout.
    session.commit()
    with _writer_of(session.get_bind().engine):
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise


def add_or_get(session: Session, obj, find):
    """Insert obj inside a savepoint; if a concurrent request inserted the same key first, return theirs."""
    from sqlalchemy.exc import IntegrityError

    if session.get_bind().dialect.name == "sqlite":
        # SQLite runs one writer at a time, and pysqlite's SAVEPOINT handling is unreliable;
        # the rare race left (two first-time inserts at once) fails the later request whole.
        session.add(obj)
        session.flush()
        return obj
    try:
        with session.begin_nested():
            session.add(obj)
        return obj
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing


# Tables a large upload writes or reads by index: their statistics steer the planner for the
# pages and counters that join them afterwards.
UPLOAD_TABLES = ("trainee", "enrollment", "completion", "certificate")


def optimize(session: Session, tables: tuple[str, ...] = UPLOAD_TABLES) -> None:
    """Bring the planner's statistics up to date after a large write, in the same transaction.

    SQLite keeps none until ANALYZE runs, and a database the app filled itself would never
    get any: its planner then guesses, and once drove an upload's lookups from the wrong index
    (ten times slower). analysis_limit samples a few hundred rows an index, so this costs
    milliseconds at any size. PRAGMA optimize alone would do nothing here: before SQLite 3.46
    it only looks at tables whose queries on this connection could have used statistics.
    PostgreSQL's autovacuum analyzes a table once a tenth of it changed, so nothing is run
    there."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("PRAGMA analysis_limit=400")
    for table in tables:
        connection.exec_driver_sql(f'ANALYZE "{table}"')
    connection.exec_driver_sql("PRAGMA optimize")


@contextmanager
def custom_plans(session: Session) -> Iterator[None]:
    """Look-ups by chunks of keys planned for their keys, on PostgreSQL, inside the block.

    psycopg prepares a statement from its fifth run on a connection, and PostgreSQL may then
    plan it once for every later run: planned while a table was small, the plan scans the
    whole table for each chunk ever after, on that pooled connection. A roster of 20,000
    rows classified again took 17.5 s instead of 2.4, and one of 100,000 rows 823 s.
    Only around look-ups: the inserts of a large write gain from their prepared plans
    (forcing custom plans cost 2.7 s of a 20,000-row save). SQLite needs nothing."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.exec_driver_sql("SELECT current_setting('plan_cache_mode')").scalar()
    connection.exec_driver_sql("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
    yield  # on an error the transaction is rolled back, and the setting with it
    connection.execute(
        text("SELECT set_config('plan_cache_mode', :mode, true)"), {"mode": previous}
    )


def among(session: Session, column, values: list):
    """`column IN values` with the values as one parameter: a JSON array read by json_each on
    SQLite, an array on PostgreSQL. An IN list of 2,000 parameters is compiled again on every
    run (SQLAlchemy renders each list into the SQL); one parameter keeps the statement cached,
    which cut a 100,000-row upload's look-ups by about a second. On PostgreSQL, numbers and
    hashes go as one comma-separated text split by the server: psycopg dumps a list's items one
    by one in Python (4.9 s for a 100,000-row upload's look-ups and counting)."""
    values = list(values)
    if session.connection().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        array_type = ARRAY(column.type)
        if all(isinstance(v, int) for v in values) or all(
            isinstance(v, str) and "," not in v for v in values
        ):
            joined = ",".join(map(str, values))
            return column == any_(
                cast(func.string_to_array(bindparam(None, joined), ","), array_type)
            )
        return column == any_(bindparam(None, values, type_=array_type))
    listed = func.json_each(bindparam(None, json.dumps(values))).table_valued("value")
    return column.in_(select(listed.c.value))


def insert_rows(session: Session, table, rows: list[dict]) -> None:
    """Many rows into a table in the session's transaction: COPY on PostgreSQL (about ten times
    an executemany's speed for 100,000 completions), Core executemany on SQLite. Every row has
    the same keys."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    dbapi: Any = connection.connection.dbapi_connection  # psycopg's, for its COPY
    try:
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except connection.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy raises it for its own statements (IntegrityError, ...), parameters hidden.
        raise DBAPIError.instance(
            statement, None, exc, connection.dialect.loaded_dbapi.Error, hide_parameters=True
        ) from exc
