"""Figures the same for everyone, kept a few seconds in this process (the catalog's results,
the home page's counters): under a crowd each visitor would otherwise run the same queries.

Each cache names the writes that make its figures stale (`watched`: a statement's start); such
a write committed through this process's engine empties the cache at once, so one instance is
never behind its own writes. On a deployment of several instances each is at most `seconds`
behind the others. Nothing per user is kept: the page around the figures (the user, the CSRF
token) is rendered per request.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")


class Recent:
    def __init__(
        self,
        engine: Engine,
        *,
        seconds: float,
        watched: Callable[[str], bool],
        size: int = 512,
        wait: float | None = None,
    ) -> None:
        """size: distinct keys kept (a flood of different ones evicts the oldest). wait: when
        given, one caller computes a missing key while the others wait for it that long at most
        (a waiter may hold a pooled connection the one computing needs), then compute it
        themselves."""
        self.seconds, self.size, self.wait, self._watched = seconds, size, wait, watched
        self._entries: dict[Any, tuple[float, int, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._computing = threading.Lock()
        self._flag = f"recent_written_{id(self)}"
        event.listen(engine, "after_cursor_execute", self._saw_statement)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        found = self._fresh(key)
        if found is not None:
            return found[0]
        turn = self.wait is not None and self._computing.acquire(timeout=self.wait)
        try:
            found = self._fresh(key) if turn else None
            if found is not None:
                return found[0]
            now = time.monotonic()
            generation = self._generation  # a write committed meanwhile makes this stale
            value = compute()
            with self._lock:
                self._entries = {
                    k: e for k, e in self._entries.items() if e[0] > now and e[1] == generation
                }
                if len(self._entries) >= self.size:
                    self._entries.pop(next(iter(self._entries)))
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
        if self._watched(statement):
            conn.info[self._flag] = True

    def _committed(self, conn) -> None:
        if conn.info.pop(self._flag, False):
            with self._lock:
                self._generation += 1
                self._entries.clear()

    def _rolled_back(self, conn) -> None:
        conn.info.pop(self._flag, None)


_creating = threading.Lock()


def of(app, name: str, make: Callable[[Engine], Recent]) -> Recent:
    """The app's cache of this name, made on first use (its listeners watch the app's engine)."""
    cache = getattr(app.state, name, None)
    if cache is None:
        with _creating:
            cache = getattr(app.state, name, None)
            if cache is None:
                cache = make(app.state.engine)
                setattr(app.state, name, cache)
    return cache
