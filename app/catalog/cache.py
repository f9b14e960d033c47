"""What the catalog shows, kept a few seconds in this process.

When a popular course opens, hundreds of people load the catalog at once; each would run the
same two queries. The results are kept per normalised filter for SECONDS, so on a deployment
of several app instances each is at most that far behind the others (seats left on the list
may be a few seconds stale). The course page and enrollment always read the database: a
trainee is never refused or admitted on what this cache says.

A write to the course table committed through this process's engine (a course created or
edited, a seat taken) empties the cache at once, so a single instance is never behind itself.
Nothing per user is kept: the rows are the same for everyone; the page around them (the user,
the CSRF token) is rendered per request.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event

SECONDS = 5.0
SIZE = 512  # distinct searches kept; a flood of different queries evicts the oldest
_WRITES = ("INSERT INTO course ", "UPDATE course ", "DELETE FROM course ")
_FLAG = "catalog_course_written"

T = TypeVar("T")


class CatalogCache:
    def __init__(self, engine: Engine, seconds: float = SECONDS, size: int = SIZE):
        self.seconds, self.size = seconds, size
        self._entries: dict[Any, tuple[float, int, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._saw_statement)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now and entry[1] == self._generation:
            return entry[2]
        # Read before the query: a write committed meanwhile makes this entry stale at once.
        generation = self._generation
        value = compute()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (now + self.seconds, generation, value)
        return value

    def _saw_statement(self, conn, cursor, statement: str, *_args) -> None:
        if statement.startswith(_WRITES):
            conn.info[_FLAG] = True

    def _committed(self, conn) -> None:
        if conn.info.pop(_FLAG, False):
            with self._lock:
                self._generation += 1
                self._entries.clear()

    def _rolled_back(self, conn) -> None:
        conn.info.pop(_FLAG, None)


_creating = threading.Lock()


def of(app) -> CatalogCache:
    """The app's catalog cache, made on first use (its listeners watch the app's engine)."""
    cache = getattr(app.state, "catalog_cache", None)
    if cache is None:
        with _creating:
            cache = getattr(app.state, "catalog_cache", None)
            if cache is None:
                cache = app.state.catalog_cache = CatalogCache(app.state.engine)
    return cache
