"""What each kind of job does with one item, registered by the domain that owns the work.

A handler must be idempotent: a worker killed after doing an item but before marking it done
leaves the item to be done again, and doing it again must find the work done, not do it twice.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.config import Settings
from app.jobs.models import Job

# The modules that register kinds, imported on first use by web servers and workers alike.
MODULES = (
    "app.certificates.issuing",
    "app.certificates.printing",
    "app.completions.background",
    "app.exports.background",
    "app.retention.job",
)


class ItemRefused(Exception):
    """This item cannot be done, for a reason a person can act on: it fails, the job goes on."""

    def __init__(self, message: str, params: dict | None = None):
        super().__init__(message)
        self.message, self.params = message, params or {}


@dataclass(frozen=True)
class Item:
    """What a handler gets: a session whose commit also marks the item done, the worker's
    settings, the job and the item's key."""

    session: Session
    settings: Settings
    job: Job
    key: str
    ahead: Any = None  # what the kind's ahead() made for this item, if anything


@dataclass(frozen=True)
class Link:
    label: str  # a message id
    route: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # a message id: the kind in words, for the job page
    do_item: Callable[[Item], str | None]  # returns what was made (a serial), for the ledger
    # Who or what each item is about, for the failed items' list (names masked).
    describe: Callable[[Session, list[str]], dict[str, str]] = lambda _s, _keys: {}
    # Where to go once the job is done: what it made.
    links: Callable[[Job], list[Link]] = lambda _job: []
    # Work done for a whole leased chunk before its items, by key (certificates printed on
    # every core at once); an item must still be right without it.
    ahead: Callable[[Session, Settings, list[str]], dict[str, Any]] | None = None


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    _kinds[kind.name] = kind
    return kind


def get(name: str) -> Kind | None:
    for module in MODULES:
        importlib.import_module(module)  # registers its kinds the first time; cached after
    return _kinds.get(name)
