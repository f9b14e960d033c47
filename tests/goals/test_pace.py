"""A goal against its period's pace, worked by hand: the first day of the period is day 1."""

from datetime import date

import pytest

from app.goals.pace import pace

YEAR = (date(2026, 1, 1), date(2026, 12, 31))  # 365 days


def test_ahead_of_an_even_pace_reaches_the_target_on_the_day_todays_rate_implies():
    # 10 April is day 100; 20 of 50 in 100 days reaches 50 on day 250: 7 September.
    p = pace(20, 50, *YEAR, today=date(2026, 4, 10))
    assert (p.state, p.reaches_on, p.expected) == ("on_track", date(2026, 9, 7), 13)
    assert (p.days_passed, p.days_total) == (100, 365) and p.on_track


def test_behind_does_not_reach_the_target_before_the_period_ends():
    # 10 in 100 days reaches 50 on day 500, after the 365th.
    p = pace(10, 50, *YEAR, today=date(2026, 4, 10))
    assert (p.state, p.reaches_on, p.expected) == ("behind", None, 13) and not p.on_track


def test_exactly_the_even_pace_reaches_the_target_on_the_last_day():
    # 73 days of 365 is a fifth: 10 of 50, reaching 50 on day 365.
    p = pace(10, 50, *YEAR, today=date(2026, 3, 14))
    assert (p.state, p.reaches_on, p.expected) == ("on_track", date(2026, 12, 31), 10)


def test_one_short_of_the_even_pace_is_behind():
    assert pace(9, 50, *YEAR, today=date(2026, 3, 14)).state == "behind"


def test_nothing_counted_yet_never_reaches_the_target():
    p = pace(0, 50, *YEAR, today=date(2026, 1, 1))
    assert (p.state, p.reaches_on, p.expected, p.days_passed) == ("behind", None, 0, 1)


def test_on_the_first_day_one_completion_implies_a_target_day():
    # Day 1, 1 of 50: day 50 is 19 February.
    assert pace(1, 50, *YEAR, today=date(2026, 1, 1)).reaches_on == date(2026, 2, 19)


def test_a_leap_year_period_counts_29_february():
    # 2028-01-01 to 2028-12-31 is 366 days; 1 March 2028 is day 61. 61 of 366 in 61 days: on
    # track for day 366 exactly.
    p = pace(61, 366, date(2028, 1, 1), date(2028, 12, 31), today=date(2028, 3, 1))
    assert (p.state, p.reaches_on, p.days_total) == ("on_track", date(2028, 12, 31), 366)


@pytest.mark.parametrize("count", [50, 51])
def test_reached_is_reached_whenever_it_is_asked(count):
    assert pace(count, 50, *YEAR, today=date(2026, 2, 1)).state == "reached"
    assert pace(count, 50, *YEAR, today=date(2027, 6, 1)).state == "reached"


def test_before_the_period_starts():
    p = pace(3, 50, *YEAR, today=date(2025, 12, 31))
    assert (p.state, p.expected, p.reaches_on, p.days_passed) == ("not_started", 0, None, 0)


def test_after_the_period_ends_short_of_the_target():
    p = pace(40, 50, *YEAR, today=date(2027, 1, 5))
    assert (p.state, p.expected, p.reaches_on, p.days_passed) == ("ended", 50, None, 365)
