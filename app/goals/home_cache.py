"""What the home page shows (the goal counters, the cities' rows, the first open courses),
kept SECONDS in this process.

When a popular course opens, hundreds of people land on the home page at once, each of whom
would read the same counters, plan, cities and courses. The figures are the same for everyone
(the page around them, the user and the CSRF token, is rendered per request), and a public
counter a few seconds behind misleads no one: enrollments and completions show within SECONDS.
A change a person makes and looks for at once, a plan saved or a course created or edited,
committed through this process's engine, empties the cache at once. On a deployment of
several instances each is at most SECONDS behind the others.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event

SECONDS = 5.0
WAIT = 2.0  # seconds a visitor waits for another's counting before counting itself
# The writes seen at once; a seat taken (UPDATE course SET seats_taken) is not one of them:
# under a crowd it would empty the cache on every enrollment.
_SEEN = ("INSERT INTO goal_plan", "UPDATE goal_plan", "INSERT INTO course ", "DELETE FROM course ")
_SEEN_UPDATE, _SEAT = "UPDATE course ", "UPDATE course SET seats_taken="
_FLAG = "home_page_written"

T = TypeVar("T")


class HomeCache:
    def __init__(self, engine: Engine, seconds: float = SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[Any, tuple[float, int, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._computing = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._saw_statement)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        found = self._fresh(key)
        if found is not None:
            return found[0]
        # One visitor counts; the others arriving meanwhile (a crowd, when the figures expire)
        # wait for those figures instead of each counting them again. Not for long: a waiter
        # may hold a pooled connection (a logged-in user's), which the one counting could need.
        turn = self._computing.acquire(timeout=WAIT)
        try:
            found = self._fresh(key) if turn else None
            if found is not None:
                return found[0]
            now = time.monotonic()
            generation = self._generation  # a change committed meanwhile makes this stale
            value = compute()
            with self._lock:
                self._entries = {
                    k: e for k, e in self._entries.items() if e[0] > now and e[1] == generation
                }
                self._entries[key] = (now + self.seconds, generation, value)
            return value
        finally:
            if turn:
                self._computing.release()

    def _fresh(self, key: Any) -> tuple[Any] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic() and entry[1] == self._generation:
            return (entry[2],)
        return None

    def _saw_statement(self, conn, cursor, statement: str, *_args) -> None:
        if statement.startswith(_SEEN) or (
            statement.startswith(_SEEN_UPDATE) and not statement.startswith(_SEAT)
        ):
            conn.info[_FLAG] = True

    def _committed(self, conn) -> None:
        if conn.info.pop(_FLAG, False):
            with self._lock:
                self._generation += 1
                self._entries.clear()

    def _rolled_back(self, conn) -> None:
        conn.info.pop(_FLAG, None)


_creating = threading.Lock()


def of(app) -> HomeCache:
    """The app's home page cache, made on first use (its listeners watch the app's engine)."""
    cache = getattr(app.state, "home_cache", None)
    if cache is None:
        with _creating:
            cache = getattr(app.state, "home_cache", None)
            if cache is None:
                cache = app.state.home_cache = HomeCache(app.state.engine)
    return cache
