"""China's date and time: what "today" means for a course, a completion or a birth date.

The server may run in UTC: before 08:00 Beijing time its own date is still yesterday's, which
would refuse a completion dated today as being in the future and close enrollment windows a
day early. Everything that asks for today asks here.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(CHINA)


def today() -> date:
    return now().date()


def in_china(moment: datetime) -> datetime:
    """A stored time in China's: times are stored in UTC, and SQLite hands them back without
    their zone (a naive value is UTC, never the server's local time)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA)
