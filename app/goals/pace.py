"""A goal against the pace its campaign period implies: an even pace from nothing on the first
day to the target on the last, and today's rate carried forward.

Days count whole: the first day of the period is day 1, so on the first day one day has
passed. The rate is the count over the days passed (what was counted before the period
started counts as done within it).
"""

from dataclasses import dataclass
from datetime import date, timedelta

REACHED, ON_TRACK, BEHIND, NOT_STARTED, ENDED = (
    "reached",
    "on_track",
    "behind",
    "not_started",
    "ended",
)


@dataclass(frozen=True)
class Pace:
    state: str  # one of REACHED, ON_TRACK, BEHIND, NOT_STARTED, ENDED (short of the target)
    expected: int  # what an even pace would have counted by today (whole entities)
    reaches_on: date | None  # when today's rate reaches the target; None: not within the period
    days_passed: int
    days_total: int

    @property
    def on_track(self) -> bool:
        return self.state in (REACHED, ON_TRACK)


def pace(count: int, target: int, starts_on: date, ends_on: date, today: date) -> Pace:
    total = (ends_on - starts_on).days + 1
    passed = max(0, min((today - starts_on).days + 1, total))
    expected = target * passed // total
    if count >= target:
        return Pace(REACHED, expected, None, passed, total)
    if passed == 0:
        return Pace(NOT_STARTED, 0, None, 0, total)
    if today > ends_on:
        return Pace(ENDED, target, None, passed, total)
    reaches_on = None
    if count > 0:
        day = -(-target * passed // count)  # the day number (day 1: starts_on), rounded up
        if day <= total:
            reaches_on = starts_on + timedelta(days=day - 1)
    # At an even pace or better exactly when today's rate reaches the target within the period.
    return Pace(ON_TRACK if reaches_on else BEHIND, expected, reaches_on, passed, total)
