"""Today is China's today: at 23:30 UTC it is already 07:30 the next morning in Shandong."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from app import clock
from app.completions.models import Completion
from tests.completions.uploads import staff_upload
from tests.factories import csrf_of, make_company, make_course, make_enrollment, make_university

UTC_DAY = datetime.now(UTC).date()
BEIJING_DAY = UTC_DAY + timedelta(days=1)


@pytest.fixture
def half_past_eleven_utc(monkeypatch):
    moment = datetime.combine(UTC_DAY, time(23, 30), tzinfo=UTC).astimezone(clock.CHINA)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.today() == BEIJING_DAY


def test_a_completion_dated_today_in_beijing_is_not_in_the_future(
    client, session, half_past_eleven_utc
):
    university = make_university(session)
    course = make_course(session, university, starts_on=UTC_DAY - timedelta(days=30))
    _, id_number = make_enrollment(session, course)
    content = f"身份证号,课程代码,结业日期\r\n{id_number},{course.code},{BEIJING_DAY}\r\n".encode()
    page = staff_upload(client, session, university, "a.csv", content)
    assert page.status_code == 200 and "今天" not in page.text.split("<main>")[1]
    assert session.exec(select(Completion)).one().completed_on == BEIJING_DAY


def test_enrollment_closes_at_the_end_of_beijing_s_day(client, session, half_past_eleven_utc):
    course = make_course(
        session, make_university(session), ends_on=UTC_DAY, starts_on=UTC_DAY - timedelta(days=10)
    )
    response = client.post(
        f"/courses/{course.code}/enroll",
        data={
            "csrf_token": csrf_of(client),
            "name": "李䶮",
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
            "company_uscc": make_company(session).uscc,
            "consent": "yes",
        },
    )
    assert response.status_code == 409  # closed: its last day was yesterday in Beijing


def test_the_clock_is_china_standard_time():
    assert clock.now().utcoffset() == timedelta(hours=8)
    assert isinstance(clock.today(), date)


def test_a_stored_time_is_read_as_utc_whatever_the_server_s_zone(monkeypatch):
    # SQLite hands a stored UTC time back without its zone; on a server set to another zone
    # a naive value must still be taken as UTC, never as the server's local time.
    monkeypatch.setenv("TZ", "America/New_York")
    import time as system_time

    system_time.tzset()
    try:
        naive = datetime(2026, 12, 4, 20, 30)
        assert clock.in_china(naive) == datetime(2026, 12, 5, 4, 30, tzinfo=clock.CHINA)
        assert clock.in_china(naive.replace(tzinfo=UTC)) == clock.in_china(naive)
    finally:
        monkeypatch.undo()
        system_time.tzset()
