"""Print runs through HTTP: one merged PDF of a course or of the ticked certificates, a job
with its file in the data folder, offered from the job page and the print log, scoped to the
university; revoked or replaced certificates never printed; nothing to print says why."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.certificates import printing
from app.certificates.serials import format_serial
from app.db import utcnow
from app.jobs import queue as jobs_queue
from app.jobs import registry, runner
from app.jobs import service as jobs
from app.jobs.models import Job, JobItem
from tests.certificates import issued
from tests.conftest import environment_of
from tests.factories import csrf_of, login, make_course, make_university, make_user
from tests.html import field_errors, flash, page
from tests.jobs.conftest import upload_completions

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["张三", "李䶮", "王建国", "𠮷田", "阿依古丽·买买提"]


@pytest.fixture
def certified(client, session):
    """A course of university A whose five completions have their certificates."""
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-PRINT-01", title="服装智能制造与MES")
    staff = make_user(session, university=university)
    login(client, staff)
    upload_completions(client, session, course, NAMES)
    issued.issue(client, course)
    return {"university": university, "course": course, "staff": staff}


def _print(client, course, **data):
    form = {"csrf_token": csrf_of(client, f"/staff/courses/{course.code}"), **data}
    return client.post(f"/staff/courses/{course.code}/prints", data=form, follow_redirects=False)


def _pages(content: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(content)).pages]


def _font_files(content: bytes) -> int:
    """The embedded font programs of a PDF, each counted once however many pages use it."""
    found = set()
    for p in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in (p["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for f in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                descriptor = f.get("/FontDescriptor")
                if descriptor is not None:
                    for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                        if key in descriptor.get_object():
                            found.add(descriptor.get_object().raw_get(key).idnum)
    return len(found)


def _the_job(session) -> Job:
    session.expire_all()
    return session.exec(select(Job).where(Job.kind == printing.KIND)).one()


def test_a_print_run_of_the_course_is_one_pdf_with_a_page_a_certificate(
    client, session, settings, certified
):
    started = _print(client, certified["course"], scope="shown")
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    shown = client.get(started.headers["location"])
    assert flash(shown) == "正在将 5 份证书合并为一个 PDF 文件"
    job = _the_job(session)
    assert (job.state, job.done, job.failed, job.total) == ("done", 6, 0, 6)
    assert job.result_path == f"prints/{job.id}.pdf"
    link = page(shown).select_one(f'a[href="/staff/prints/{job.id}.pdf"]')
    assert link is not None and "下载打印文件" in link.get_text()

    download = client.get(link["href"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    texts = _pages(download.content)
    certs = issued.by_holder(session)
    assert len(texts) == 5
    for text, name in zip(texts, NAMES, strict=True):  # in the order they were issued
        assert name in text and format_serial(certs[name].serial) in text
    # Printed afresh with its fonts shared across pages, not the stored PDFs glued together:
    # those would carry every certificate's own copy of each font.
    stored = sum(_font_files((settings.data_dir / c.pdf_path).read_bytes()) for c in certs.values())
    assert _font_files(download.content) <= stored // 2
    assert sorted(p.name for p in (settings.data_dir / "prints").iterdir()) == [f"{job.id}.pdf"]


def test_parts_are_joined_in_order_and_the_bar_moves_with_each(
    client, session, settings, certified, monkeypatch
):
    monkeypatch.setattr(printing, "PART", 2)  # five certificates: three parts
    _print(client, certified["course"], scope="shown")
    job = _the_job(session)
    texts = _pages((settings.data_dir / job.result_path).read_bytes())
    assert [next(n for n in NAMES if n in t) for t in texts] == NAMES
    items = session.exec(select(JobItem).where(JobItem.job_id == job.id)).all()
    assert {i.item_key: i.result for i in items}[printing.FINAL] == "5"  # pages, for the log


def test_ticked_certificates_only_and_a_revoked_one_is_never_printed(
    client, session, settings, certified
):
    certs = issued.by_holder(session)
    revoked = certs["王建国"]
    issued.revoke(client, revoked.serial, "结业记录录入有误")
    # A page loaded before the revocation still had its box ticked.
    ticked = [certs["张三"].serial, revoked.serial, certs["𠮷田"].serial]
    started = _print(client, certified["course"], scope="ticked", serial=ticked)
    message = flash(client.get(started.headers["location"]))
    assert message == (
        "正在打印 2 份证书。以下证书已撤销或已被取代，不予打印：" + format_serial(revoked.serial)
    )
    job = _the_job(session)
    texts = _pages((settings.data_dir / job.result_path).read_bytes())
    assert len(texts) == 2 and "张三" in texts[0] and "𠮷田" in texts[1]
    assert json.loads(job.params)["skipped"] == [revoked.serial]


def test_a_certificate_revoked_after_the_run_started_is_left_out(
    client, session, new_session, settings, certified
):
    course = certified["course"]
    selection = printing.select_certificates(session, course)
    job = printing.start(session, course, selection, actor="test", scope={"scope": "test"})
    session.commit()
    gone = issued.by_holder(session)["李䶮"]
    issued.revoke(client, gone.serial, "重复录入")
    runner.run(new_session, settings, job.id)
    job = _the_job(session)
    assert (job.state, job.done, job.failed) == ("done", 5, 1)
    texts = _pages((settings.data_dir / job.result_path).read_bytes())
    assert len(texts) == 4 and not any("李䶮" in t for t in texts)
    body = client.get(f"/jobs/{job.id}.json").json()
    [failed] = body["failed_items"]
    assert failed["who"] == f"李* ({format_serial(gone.serial)})"
    assert failed["message"] == "未打印：打印任务开始后该证书已撤销或已被取代"


def test_a_worker_that_died_mid_run_leaves_nothing_taken_for_done(
    client, session, new_session, settings, certified, monkeypatch
):
    """As a killed worker leaves it: its first part printed but not marked, a half-written file
    beside it, its lease run out. The next worker finishes a whole, correct file."""
    monkeypatch.setattr(printing, "PART", 2)
    course = certified["course"]
    job = printing.start(
        session, course, printing.select_certificates(session, course), actor="t", scope={}
    )
    session.commit()
    [first] = jobs.lease(session, job.id, now=utcnow(), seconds=0, size=1)
    kind = registry.get(printing.KIND)
    assert kind is not None
    kind.do_item(registry.Item(session, settings, job, first.item_key))
    session.rollback()  # killed before its commit: the item is still pending
    [parts] = [p for p in (settings.data_dir / "prints").iterdir() if p.is_dir()]
    (parts / ".00001-half.pdf.tmp").write_bytes(b"%PDF-1.7 half written")
    (settings.data_dir / "prints" / f".{job.id}.pdf.999.tmp").write_bytes(b"%PDF-1.7 half")
    runner.run(new_session, settings, job.id)
    job = _the_job(session)
    assert (job.state, job.done, job.failed) == ("done", 6, 0)
    texts = _pages((settings.data_dir / job.result_path).read_bytes())
    assert [next(n for n in NAMES if n in t) for t in texts] == NAMES
    assert not parts.exists()


def test_nothing_to_print_says_why_beside_the_buttons_and_starts_no_job(client, session, certified):
    course = certified["course"]
    nothing = _print(client, course, scope="ticked")
    assert nothing.status_code == 422
    assert field_errors(nothing)["serial"] == "请先勾选要打印的证书，或选择打印列表中全部有效证书"
    later = (clock.today() + timedelta(days=30)).isoformat()
    none_shown = _print(client, course, scope="shown", completed_from=later)
    assert none_shown.status_code == 422
    assert field_errors(none_shown)["serial"] == "没有符合条件的有效证书，无可打印"
    # The filters stay as they were, so the page still shows what the clerk was looking at.
    assert page(none_shown).select_one("#f-completed_from")["value"] == later
    gone = issued.by_holder(session)["张三"]
    issued.revoke(client, gone.serial, "结业记录录入有误")
    only_revoked = _print(client, course, scope="ticked", serial=[gone.serial])
    assert field_errors(only_revoked)["serial"] == (
        f"所选证书均无法打印：{format_serial(gone.serial)} 已撤销或已被取代"
    )
    by_state = _print(client, course, scope="shown", state="completed")
    assert field_errors(by_state)["serial"] == "没有符合条件的有效证书，无可打印"
    forged = _print(client, course, scope="ticked", serial=["DL26-0000-0000-0"])
    assert forged.status_code == 422 and "DL26-0000-0000-0" in field_errors(forged)["serial"]
    assert session.exec(select(Job).where(Job.kind == printing.KIND)).first() is None


def test_a_bad_date_in_the_print_form_is_a_field_error(client, session, certified):
    bad = _print(client, certified["course"], scope="shown", completed_to="2026-13-01")
    assert (
        bad.status_code == 422
        and field_errors(bad)["completed_to"] == "请按 2026-05-01 的格式填写日期"
    )
    assert session.exec(select(Job).where(Job.kind == printing.KIND)).first() is None


def test_the_print_log_says_who_printed_what_and_when(client, session, certified, staff_b):
    course, staff = certified["course"], certified["staff"]
    _print(client, course, scope="shown")
    job = _the_job(session)
    for path in (f"/staff/courses/{course.code}", "/staff/prints"):
        log = page(client.get(path)).select_one("table.print-log tbody tr")
        assert log is not None, path
        cells = [td.get_text(" ", strip=True) for td in log.select("td")]
        assert cells[1] == staff.email and cells[2] == course.code and cells[3] == "5 页"
        assert log.select_one(f'a[href="/staff/prints/{job.id}.pdf"]') is not None
        assert log.select_one(f'a[href="/jobs/{job.id}"]') is not None
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.print"))
    assert event.actor == staff.actor and json.loads(event.detail)["job"] == job.id
    assert json.loads(event.detail)["certificates"] == 5
    # Another university sees neither the run, nor its file, nor its job.
    assert 'table class="print-log"' not in staff_b.get("/staff/prints").text
    assert staff_b.get(f"/staff/prints/{job.id}.pdf").status_code == 404
    assert staff_b.get(f"/jobs/{job.id}").status_code == 404


def test_the_file_of_a_job_that_is_no_print_run_or_not_finished(client, session, certified):
    course = certified["course"]
    issuing_job = session.exec(select(Job).where(Job.kind == "certificates.issue")).one()
    assert client.get(f"/staff/prints/{issuing_job.id}.pdf").status_code == 404
    queued = printing.start(
        session, course, printing.select_certificates(session, course), actor="t", scope={}
    )
    session.commit()
    waiting = client.get(f"/staff/prints/{queued.id}.pdf")
    assert waiting.status_code == 409 and "该打印任务尚未完成" in waiting.text
    assert client.get("/staff/prints/99999.pdf").status_code == 404


def test_the_api_prints_a_course_or_serials_with_the_university_s_token(client, session, certified):
    course = certified["course"]
    _, token = auth.create_token(
        session, name="教务系统", role="university", university_id=certified["university"].id
    )
    _, other = auth.create_token(
        session, name="b", role="university", university_id=make_university(session).id
    )
    session.commit()
    mine, theirs = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {other}"}
    whole = client.post(f"/api/v1/courses/{course.code}/prints", headers=mine)
    assert whole.status_code == 202
    body = whole.json()
    assert body["certificates"] == 5 and body["skipped"] == []
    assert whole.headers["location"] == body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    status = client.get(body["status_url"], headers=mine).json()
    assert (status["state"], status["done"], status["total"]) == ("done", 6, 6)
    assert body["file_url"] == f"/api/v1/prints/{body['job_id']}/pdf"
    pdf = client.get(body["file_url"], headers=mine)
    assert pdf.status_code == 200 and len(_pages(pdf.content)) == 5
    assert client.get(body["file_url"], headers=theirs).status_code == 404
    assert client.get(body["file_url"]).status_code == 401

    certs = issued.by_holder(session)
    serials = [format_serial(certs["𠮷田"].serial), certs["张三"].serial.lower()]
    some = client.post(
        f"/api/v1/courses/{course.code}/prints", headers=mine, json={"serials": serials}
    )
    assert some.status_code == 202 and some.json()["certificates"] == 2
    later = (clock.today() + timedelta(days=1)).isoformat()
    empty = client.post(
        f"/api/v1/courses/{course.code}/prints", headers=mine, json={"completed_from": later}
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "serials"
    wrong = client.post(
        f"/api/v1/courses/{course.code}/prints", headers=mine, json={"serials": ["nope"]}
    )
    assert wrong.status_code == 422 and "nope" in wrong.json()["errors"][0]["message"]
    backwards = client.post(
        f"/api/v1/courses/{course.code}/prints",
        headers=mine,
        json={"completed_from": "2026-05-02", "completed_to": "2026-05-01"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "completed_to"
    assert client.post(f"/api/v1/courses/{course.code}/prints", headers=theirs).status_code == 404


def _worker(settings) -> subprocess.Popen:
    env = {**environment_of(settings), "DANDELION_JOB_LEASE_SECONDS": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its renderer processes with it, so a kill takes them all
    )


def _wait(new_session, job_id: int, until, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with new_session() as s:
            job = s.get_one(Job, job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job}")


def test_a_real_worker_killed_while_printing_leaves_the_run_to_the_next_one(
    client, session, new_session, settings, certified
):
    course = certified["course"]
    queue = jobs_queue.Queue(settings.model_copy(update={"jobs_immediate": False}), new_session)
    queue.huey.flush()  # nothing another test left in a shared PostgreSQL queue
    job = printing.start(
        session, course, printing.select_certificates(session, course), actor="t", scope={}
    )
    session.commit()
    queue.enqueue(job.id)
    first = _worker(settings)
    try:
        _wait(new_session, job.id, lambda j: j.state == "running", 120)
        time.sleep(0.3)  # its renderer processes are printing the part now
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its renderers, mid-part
        first.wait()
    with new_session() as s:
        at_kill = s.get_one(Job, job.id)
    assert at_kill.state == "running" and at_kill.result_path is None  # killed mid-run
    second = _worker(settings)
    try:
        done = _wait(new_session, job.id, lambda j: j.state in ("done", "failed"), 180)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert (done.state, done.done, done.failed) == ("done", 6, 0)
    texts = _pages((settings.data_dir / done.result_path).read_bytes())
    assert [next(n for n in NAMES if n in t) for t in texts] == NAMES
    left = sorted(p.name for p in (settings.data_dir / "prints").iterdir())
    assert left == [f"{job.id}.pdf"]  # no part, lock or half-written file


def test_the_api_docs_name_the_errors_of_print_runs(client):
    paths = client.get("/openapi.json").json()["paths"]
    errors = {"401", "403", "404", "409", "410", "413", "422", "429"}
    start = paths["/api/v1/courses/{code}/prints"]["post"]["responses"]
    assert set(start) & errors == {"401", "403", "404", "413", "422"} and "202" in start
    download = paths["/api/v1/prints/{job_id}/pdf"]["get"]["responses"]
    assert set(download) & errors == {"401", "403", "404", "409", "422"}
