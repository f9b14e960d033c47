"""Trainees with enrollments in a course that has not started and in one that has, and the
way a trainee signs in: ID number and mobile, then the code the log sender wrote."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from app import clock
from tests.factories import (
    make_company,
    make_course,
    make_enrollment,
    make_university,
)
from tests.me.signing import MOBILE, OTHER_MOBILE


@pytest.fixture
def world(session):
    today = clock.today()
    a = make_university(session, name="山东理工大学")
    company = make_company(session)
    future = make_course(
        session,
        a,
        code="SDUT-ME-01",
        capacity=5,
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=40),
    )
    started = make_course(session, a, code="SDUT-ME-02")
    mine, id_number = make_enrollment(session, future, company=company, mobile=MOBILE)
    ongoing, _ = make_enrollment(
        session, started, id_number=id_number, company=company, mobile=MOBILE
    )
    theirs, other_id = make_enrollment(
        session, future, name="李四", company=company, mobile=OTHER_MOBILE
    )
    return SimpleNamespace(
        a=a,
        future=future,
        started=started,
        mine=mine,
        ongoing=ongoing,
        theirs=theirs,
        id_number=id_number,
        other_id=other_id,
    )


@pytest.fixture
def certified(world, session, new_client):
    """The started course's completion for the trainee, uploaded by staff, and its certificate."""
    from app.certificates.models import Certificate
    from tests import files
    from tests.certificates.issued import issue
    from tests.completions.uploads import upload_and_save
    from tests.factories import login, make_user

    staff = new_client()
    login(staff, make_user(session, university=world.a))
    done = (clock.today() - timedelta(days=1)).isoformat()
    rows = [["张三", world.id_number, world.started.code, done, "90"]]
    upload_and_save(staff, "a.xlsx", files.xlsx(rows))
    issue(staff, world.started)
    session.expire_all()
    world.cert = session.exec(select(Certificate)).one()
    world.staff = staff
    return world
