"""The goals' counters per scope (province, city, university) follow every write: uploads,
their undo, revocations, and the records a migration finds. Every test of the suite also
checks them against a recount when it ends (tests/conftest.py)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from app import clock, migrate
from app.certificates import issuing, revocation
from app.certificates.models import Certificate
from app.completions import service as completions
from app.completions.models import Completion, CompletionBatch
from app.db import make_engine
from app.enrollments.models import Enrollment
from app.goals import tally
from tests import files
from tests.conftest import POSTGRES_URL
from tests.factories import make_company, make_course, make_enrollment, make_university

DONE = (clock.today() - timedelta(days=1)).isoformat()


def _upload(session, settings, university, rows) -> CompletionBatch:
    batch = completions.import_file(
        session,
        completions.Upload(university=university, filename="a.csv", data=files.utf8_bom_csv(rows)),
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    return batch


def _world(session):
    """张三 enrolled at a Jinan and a Qingdao university, 李四 at the Jinan one, both working
    for a company in Zibo."""
    jinan, qingdao = (make_university(session, city_code=c) for c in ("3701", "3702"))
    course_j, course_q = make_course(session, jinan), make_course(session, qingdao)
    zibo = make_company(session, city_code="3703")
    _, zhang = make_enrollment(session, course_j, name="张三", company=zibo)
    make_enrollment(session, course_q, name="张三", id_number=zhang, company=zibo)
    _, li = make_enrollment(session, course_j, name="李四", company=zibo)
    return jinan, qingdao, course_j, course_q, zibo, zhang, li


def test_counters_per_scope_follow_an_upload_and_its_undo(session, settings):
    jinan, qingdao, course_j, course_q, zibo, zhang, li = _world(session)
    u = tally.university
    assert tally.counts(session, "enrolled") == {
        ("enrolled", ""): 2,
        ("enrolled", u(jinan.id)): 2,
        ("enrolled", u(qingdao.id)): 1,
    }
    assert tally.total(session, "enrollments") == 3

    _upload(session, settings, jinan, [["张三", zhang, course_j.code, DONE, ""]])
    _upload(session, settings, jinan, [["李四", li, course_j.code, DONE, ""]])
    at_qingdao = _upload(session, settings, qingdao, [["张三", zhang, course_q.code, DONE, ""]])
    counted = tally.counts(session)
    assert counted[("talents", "")] == 2 and counted[("talents", "city:3703")] == 2
    assert counted[("universities", "")] == 2
    assert counted[("universities", "city:3701")] == counted[("universities", "city:3702")] == 1
    assert counted[("companies", "")] == 1 and counted[("companies", u(qingdao.id))] == 1
    assert counted[("completions", "")] == 3 and counted[("completions", u(jinan.id))] == 2

    assert completions.undo(session, at_qingdao, user_id=None, actor="test", now=clock.now())
    session.commit()
    counted = tally.counts(session)
    assert counted[("talents", "")] == 2  # 张三 still completed in Jinan
    assert counted[("universities", "")] == 1 and ("universities", "city:3702") not in counted
    assert ("companies", u(qingdao.id)) not in counted
    assert counted[("completions", "")] == 2
    assert tally.differences(session) == []


def test_a_revoked_or_reissued_certificate_keeps_its_completion_counted(session, settings):
    jinan, _, course_j, _, _, zhang, _ = _world(session)
    _upload(session, settings, jinan, [["张三", zhang, course_j.code, DONE, ""]])
    before = tally.counts(session)
    completion = session.exec(select(Completion)).one()
    issuing.issue_one(
        session,
        completion.id,
        public_url=settings.public_url,
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    cert = session.exec(select(Certificate)).one()
    revocation.revoke(session, cert, reason="姓名有误", actor="test")
    session.commit()
    assert tally.counts(session) == before and tally.differences(session) == []


def test_the_migration_counts_the_records_already_there(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrate.upgrade(url, "0010")
    engine = make_engine(url)
    rows = [
        "INSERT INTO university(code,name,city_code,created_at) VALUES('U','u','3701','2026-01-01')",
        "INSERT INTO course(code,title,hours,capacity,starts_on,ends_on,university_id,seats_taken,"
        "is_open,created_at) VALUES('C','t',1,9,'2026-01-01','2026-02-01',1,2,1,'2026-01-01')",
        "INSERT INTO company(uscc,name,city_code,created_at) VALUES('X','x','3702','2026-01-01')",
        *(
            "INSERT INTO trainee(id_hash,id_encrypted,id_masked,name,created_at,updated_at) "
            f"VALUES('h{n}','e','m','n','2026-01-01','2026-01-01')"
            for n in (1, 2)
        ),
        *(
            "INSERT INTO enrollment(enrollment_no,course_id,trainee_id,company_id,status,"
            "consent_version,consent_at,consent_channel,share_with_employer,created_at,"
            "mobile_encrypted,mobile_masked) "
            f"VALUES('BM{n}',1,{n},1,'{status}','v','2026-01-01','web',0,'2026-01-01','E','M')"
            for n, status in ((1, "enrolled"), (2, "withdrawn"))
        ),
        "INSERT INTO completion(enrollment_id,course_id,university_id,trainee_id,company_id,"
        "completed_on,hours,created_at,updated_at) "
        "VALUES(1,1,1,1,1,'2026-01-20',1,'2026-01-20','2026-01-20')",
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))
    migrate.upgrade(url)
    from sqlmodel import Session

    with Session(engine) as session:
        counted = tally.counts(session)
        assert tally.differences(session) == []
    engine.dispose()
    assert counted[("talents", "")] == 1 and counted[("talents", "city:3702")] == 1
    assert counted[("universities", "city:3701")] == 1
    assert counted[("enrolled", "")] == 1 and counted[("enrollments", "university:1")] == 1


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite has one writer at a time: nothing races")
def test_two_transactions_counting_the_same_new_trainee_count_it_once(session, new_session):
    """PostgreSQL: two uploads at two universities record the same trainee's first completions
    at once. Each sees no member yet; the upsert and the trigger must still count one."""
    jinan, qingdao, course_j, course_q, _, zhang, _ = _world(session)
    zhang_q = session.exec(select(Enrollment).where(Enrollment.course_id == course_q.id)).one()
    enrollments = {  # 张三's two
        e.course_id: e
        for e in session.exec(select(Enrollment).where(Enrollment.trainee_id == zhang_q.trainee_id))
    }
    both_inserted = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def complete(course) -> None:
        try:
            with new_session() as s:
                enrollment = enrollments[course.id]
                completion = Completion(
                    enrollment_id=enrollment.id,
                    course_id=course.id,
                    university_id=course.university_id,
                    trainee_id=enrollment.trainee_id,
                    company_id=enrollment.company_id,
                    completed_on=course.starts_on,
                    hours=course.hours,
                )
                s.add(completion)
                s.flush()
                both_inserted.wait()  # both written, neither counted: now both count
                tally.completions_added(s, Completion.id == completion.id)
                s.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=complete, args=(c,)) for c in (course_j, course_q)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert tally.total(session, "talents") == 1 and tally.total(session, "universities") == 2
    assert tally.differences(session) == []
