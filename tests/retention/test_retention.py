"""The retention job: contact details of long-ended courses anonymised, old files deleted."""

import json
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from app import clock
from app.audit.models import AuditEvent
from app.completions import originals
from app.completions.models import CompletionBatch
from app.courses.models import Course
from app.db import utcnow
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment
from app.exports import service as exports
from app.goals import tally
from app.jobs import queue
from app.jobs import service as jobs
from app.jobs.models import Job
from app.retention import job as retention
from app.security import keys_of
from tests.completions.uploads import staff_upload
from tests.conftest import run_cli
from tests.factories import login, make_course, make_enrollment, make_university, make_user
from tests.files import utf8_bom_csv

DONE = (clock.today() - timedelta(days=2)).isoformat()


def _ended_long_ago(session, course) -> None:
    today = clock.today()
    session.execute(
        update(Course)
        .where(col(Course.id) == course.id)
        .values(starts_on=today - timedelta(days=800), ends_on=today - timedelta(days=731))
    )
    session.commit()


def _aged(session, model, row_id, days: int) -> None:
    session.execute(
        update(model)
        .where(col(model.id) == row_id)
        .values(created_at=utcnow() - timedelta(days=days))
    )
    session.commit()


def _export_file(settings, session, *, days: int) -> Job:
    job = jobs.start(
        session,
        kind=exports.KINDS["goals"],
        university_id=None,
        actor="user:1",
        item_keys=[],
        params={"export": "goals", "format": "xlsx"},
    )
    path = exports.file_path(settings.data_dir, job)
    job.result_path = str(path.relative_to(settings.data_dir))
    session.add(job)
    session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(keys_of(session).encrypt_bytes(b"a sheet"))
    _aged(session, Job, job.id, days)
    return job


def test_retention_run_anonymises_and_deletes_only_what_is_past_its_period(
    settings, session, client
):
    university = make_university(session)
    old, recent = make_course(session, university), make_course(session, university)
    gone, old_id = make_enrollment(session, old, mobile="13911112222")
    kept, _ = make_enrollment(session, recent, mobile="13933334444")
    staff_upload(
        client, session, university, "a.csv", utf8_bom_csv([["张三", old_id, old.code, DONE, "90"]])
    )
    _ended_long_ago(session, old)
    batch = session.exec(select(CompletionBatch)).one()
    _aged(session, CompletionBatch, batch.id, 181)
    original = originals.path_of(settings.data_dir, batch.sha256, batch.format)
    stale, fresh = (
        _export_file(settings, session, days=200),
        _export_file(settings, session, days=5),
    )
    counted = tally.counts(session)

    result = run_cli(settings, ["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 enrollments' contact details anonymised, 1 uploaded originals and 1 export" in (
        result.output
    )
    session.expire_all()
    assert session.get(Enrollment, gone.id).mobile_masked == ""
    assert enrollments.mobile_of(session, session.get(Enrollment, gone.id)) == ""
    assert enrollments.mobile_of(session, session.get(Enrollment, kept.id)) == "13933334444"
    assert not original.exists()
    assert not exports.file_path(settings.data_dir, stale).exists()
    assert session.get(Job, stale.id).result_path is None
    assert exports.file_path(settings.data_dir, fresh).exists()
    assert tally.counts(session) == counted and tally.differences(session) == []

    events = session.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("retention")))
    details = {e.action: json.loads(e.detail) for e in events}
    assert details["retention.contacts"]["anonymised"] == 1
    assert details["retention.uploads"]["deleted"] == 1
    assert details["retention.exports"]["deleted"] == 1
    assert all(
        "13911112222" not in json.dumps(d) and old_id not in json.dumps(d) for d in details.values()
    )

    # The error report of the batch still answers, without the rows' original cells.
    assert client.get(f"/staff/uploads/{batch.id}/errors.xlsx").status_code == 200
    # Run again: nothing left to take.
    again = run_cli(settings, ["retention", "run"])
    assert "0 enrollments' contact details anonymised, 0 uploaded originals and 0 export" in (
        again.output
    )


def test_a_file_uploaded_again_within_the_period_is_kept(settings, session, client):
    university = make_university(session)
    course = make_course(session, university)
    _, id_number = make_enrollment(session, course)
    content = utf8_bom_csv([["张三", id_number, course.code, DONE, "90"]])
    staff_upload(client, session, university, "a.csv", content)
    first = session.exec(select(CompletionBatch)).one()
    _aged(session, CompletionBatch, first.id, 400)
    staff_upload(client, session, university, "again.csv", content)  # the same bytes, today
    assert run_cli(settings, ["retention", "run"]).exit_code == 0
    assert originals.path_of(settings.data_dir, first.sha256, first.format).exists()


def test_the_daily_task_starts_one_job_a_day_that_administrators_see(
    web_app, session, client, new_client
):
    university = make_university(session)
    course = make_course(session, university)
    gone, _ = make_enrollment(session, course)
    _ended_long_ago(session, course)
    jobs_of_the_app = queue.of(web_app)  # immediate mode: the job runs inside the call
    job_id = jobs_of_the_app.start_retention()
    assert job_id is not None and jobs_of_the_app.start_retention() is None
    session.expire_all()
    assert session.get(Job, job_id).state == jobs.DONE
    assert session.get(Enrollment, gone.id).mobile_masked == ""
    assert session.get(Job, job_id).kind == retention.KIND

    login(client, make_user(session, role="admin"))
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "个人信息保存期限" in page.text
    clerk = new_client()  # an alliance job: no university's staff see it
    login(clerk, make_user(session, university=university))
    assert clerk.get(f"/jobs/{job_id}").status_code == 404
