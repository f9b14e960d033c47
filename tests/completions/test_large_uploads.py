"""A file of many rows is read, and saved, by background jobs with a progress page."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import func, select

from app import clock
from app.completions.models import Completion, CompletionBatch
from app.jobs.models import Job
from tests import files
from tests.completions.uploads import press, staff_preview
from tests.html import text

DONE = (clock.today() - timedelta(days=2)).isoformat()


def _count(session, model=Completion) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_large_file_is_read_and_saved_by_jobs(app_with, session, campus):
    ids = campus["ids"]
    rows = [
        [n, i, "QLU-DIG-01", DONE, "85"]
        for n, i in zip(("张三", "李䶮", "欧阳娜娜"), ids, strict=True)
    ]
    with TestClient(app_with(upload_job_rows=2)) as client:
        for content, name in ((files.gbk_csv(rows), "a.csv"), (files.xlsx(rows), "b.xlsx")):
            job_page = staff_preview(client, session, campus["a"], name, content)
            # The job page, its bar full (tests run jobs at once), and a way to the preview.
            assert "/jobs/" in str(job_page.url) and 'href="/staff/uploads/' in job_page.text
            batch = session.exec(
                select(CompletionBatch).order_by(CompletionBatch.id.desc())
            ).first()
            assert batch.state == "preview" and batch.rows == 3 and batch.job_id is not None
            preview = client.get(f"/staff/uploads/{batch.id}")
            # GBK has no 䶮: that row is refused in the CSV, and new in the workbook.
            assert text(preview, "#n-accepted") == ("2" if name == "a.csv" else "1")
            assert _count(session) == (0 if name == "a.csv" else 2)
            saved = press(client, preview, "save") if name == "a.csv" else None
            if saved is not None:
                assert "/jobs/" in str(saved.url) and _count(session) == 2
                session.refresh(batch)
                assert batch.state == "saved"
        kinds = session.exec(select(Job.kind).order_by(Job.id)).all()
        assert kinds == ["completions.preview", "completions.save", "completions.preview"]


def test_a_large_file_refused_whole_fails_its_job_with_the_reason(app_with, session, campus):
    content = "姓名,身份证号\r\n" + "张三,1\r\n" * 5
    with TestClient(app_with(upload_job_rows=2)) as client:
        job_page = staff_preview(client, session, campus["a"], "a.csv", content.encode())
        assert "/jobs/" in str(job_page.url) and "课程代码" in job_page.text
    assert _count(session) == 0
