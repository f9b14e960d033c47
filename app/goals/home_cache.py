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

from sqlalchemy import Engine

from app import caching

SECONDS = 5.0
WAIT = 2.0  # seconds a visitor waits for another's counting before counting itself
# The writes seen at once; a seat taken (UPDATE course SET seats_taken) is not one of them:
# under a crowd it would empty the cache on every enrollment.
_SEEN = ("INSERT INTO goal_plan", "UPDATE goal_plan", "INSERT INTO course ", "DELETE FROM course ")
_SEEN_UPDATE, _SEAT = "UPDATE course ", "UPDATE course SET seats_taken="


def _seen(statement: str) -> bool:
    return statement.startswith(_SEEN) or (
        statement.startswith(_SEEN_UPDATE) and not statement.startswith(_SEAT)
    )


def _make(engine: Engine) -> caching.Recent:
    # One visitor counts; the others arriving meanwhile (a crowd, when the figures expire)
    # wait for those figures instead of each counting them again.
    return caching.Recent(engine, seconds=SECONDS, size=8, watched=_seen, wait=WAIT)


def of(app) -> caching.Recent:
    """The app's home page cache, made on first use."""
    return caching.of(app, "home_cache", _make)
