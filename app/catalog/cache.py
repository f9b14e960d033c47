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

from sqlalchemy import Engine

from app import caching

SECONDS = 5.0
SIZE = 512  # distinct searches kept; a flood of different queries evicts the oldest
_WRITES = ("INSERT INTO course ", "UPDATE course ", "DELETE FROM course ")


def _make(engine: Engine) -> caching.Recent:
    return caching.Recent(
        engine, seconds=SECONDS, size=SIZE, watched=lambda statement: statement.startswith(_WRITES)
    )


def of(app) -> caching.Recent:
    """The app's catalog cache, made on first use."""
    return caching.of(app, "catalog_cache", _make)
