"""An upload is a preview until a clerk saves it; a saved upload can be undone."""

from datetime import timedelta

from sqlmodel import func, select

from app import clock
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.certificates import issuing
from app.completions.models import Completion, CompletionBatch
from app.goals import service as goals
from tests import files
from tests.completions.uploads import press, staff_preview
from tests.factories import csrf_of, login, make_user
from tests.html import text

TODAY = clock.today()
DONE = (TODAY - timedelta(days=2)).isoformat()


def _count(session, model=Completion) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _batch(session) -> CompletionBatch:
    session.expire_all()
    return session.exec(select(CompletionBatch).order_by(CompletionBatch.id.desc())).first()


def test_a_preview_counts_nothing_until_it_is_saved(client, session, settings, campus):
    ids = campus["ids"]
    rows = [["张三", ids[0], "QLU-DIG-01", DONE, "85"], ["李四", ids[2], "QLU-DIG-01", DONE, ""]]
    before = goals.count_all(session, settings)
    page = staff_preview(client, session, campus["a"], "名单.csv", files.gbk_csv(rows))
    assert page.status_code == 200 and 'id="batch-state"' in page.text
    assert text(page, "#n-accepted") == "1" and text(page, "#n-conflicts") == "1"
    # Each row names its person, masked: the name mismatch shows the enrolled name.
    assert "欧**娜" in page.text and ids[2] not in page.text and ids[2][:3] + "*" in page.text
    assert _count(session) == 0 and goals.count_all(session, settings) == before
    saved = press(client, page, "save")
    assert saved.status_code == 200 and "已保存：新增 1 条" in saved.text
    assert _count(session) == 1 and _batch(session).state == "saved"
    assert goals.count_all(session, settings) != before
    # Pressed again (a second tab, a double click): nothing more happens.
    again = press(client, page, "save")
    assert "已保存过" in again.text and _count(session) == 1
    audits = session.exec(select(AuditEvent).where(AuditEvent.action == "completion.upload"))
    assert len(audits.all()) == 1


def test_a_preview_a_day_old_is_read_again_before_saving(client, session, campus):
    rows = [["张三", campus["ids"][0], "QLU-DIG-01", DONE, "85"]]
    page = staff_preview(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    batch = _batch(session)
    batch.created_at -= timedelta(days=1, minutes=1)
    session.add(batch)
    session.commit()
    refused = press(client, page, "save")
    assert refused.status_code == 409 and "超过一天" in refused.text and _count(session) == 0
    fresh = press(client, refused, "reread")
    assert _batch(session).id != batch.id and text(fresh, "#n-accepted") == "1"
    assert press(client, fresh, "save").status_code == 200 and _count(session) == 1
    session.refresh(batch)
    assert batch.state == "discarded"


def test_the_clerk_reads_a_csv_again_in_another_encoding(client, session, campus):
    rows = [["欧阳娜娜", campus["ids"][2], "QLU-DIG-01", DONE, "85"]]
    page = staff_preview(
        client, session, campus["a"], "a.csv", files.gbk_csv(rows), encoding="utf-8"
    )
    assert page.status_code == 422  # GBK bytes are no UTF-8: refused whole, with the reason
    page = staff_preview(client, session, campus["a"], "a.csv", files.gbk_csv(rows))
    assert _batch(session).encoding == "gb18030"
    action = f"/staff/uploads/{_batch(session).id}/reread"
    token = csrf_of(client, f"/staff/uploads/{_batch(session).id}")
    reread = client.post(
        action, data={"csrf_token": token, "encoding": "gb18030"}, follow_redirects=True
    )
    assert text(reread, "#n-accepted") == "1" and "欧**娜" in reread.text
    bad = client.post(action, data={"csrf_token": token, "encoding": "latin-1"})
    assert bad.status_code in (409, 422)  # the first preview is discarded, or not an offer


def test_undo_withdraws_the_completions_and_puts_back_the_changed_ones(client, session, campus):
    ids = campus["ids"]
    first = staff_preview(
        client,
        session,
        campus["a"],
        "a.csv",
        files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "80"]]),
    )
    first = press(client, first, "save")
    later = (TODAY - timedelta(days=1)).isoformat()
    second = staff_preview(
        client,
        session,
        campus["a"],
        "b.csv",
        files.utf8_bom_csv(
            [
                ["张三", ids[0], "QLU-DIG-01", later, "优秀"],
                ["李䶮", ids[1], "QLU-DIG-01", DONE, ""],
            ]
        ),
    )
    assert text(second, "#n-updated") == "1" and "<ins>优秀</ins>" in second.text
    saved = press(client, second, "save")
    assert _count(session) == 2
    # The first upload's row was changed by the second: the second is undone first.
    first = client.get(first.url)  # as the clerk opens it again, logged in anew
    refused = press(client, first, "undo")
    assert refused.status_code == 409 and "先撤销" in refused.text and _count(session) == 2
    undone = press(client, saved, "undo")
    assert undone.status_code == 200 and "已撤销" in undone.text
    session.expire_all()
    (kept,) = session.exec(select(Completion)).all()
    assert (kept.score, kept.grade, kept.completed_on.isoformat()) == (80, None, DONE)
    assert press(client, saved, "undo").status_code == 200 and _count(session) == 1
    undo_events = session.exec(select(AuditEvent).where(AuditEvent.action == "completion.undo"))
    assert len(undo_events.all()) == 1
    press(client, client.get(first.url), "undo")
    assert _count(session) == 0


def test_an_upload_with_a_certificate_cannot_be_undone(client, session, settings, campus):
    rows = [["张三", campus["ids"][0], "QLU-DIG-01", DONE, "80"]]
    page = press(
        client,
        staff_preview(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows)),
        "save",
    )
    (completion,) = issuing.pending_completions(session, campus["course"])
    issuing.issue_one(
        session, completion, public_url="http://t", data_dir=settings.data_dir, today=TODAY
    )
    session.commit()
    refused = press(client, page, "undo")
    assert refused.status_code == 409 and "证书" in refused.text
    assert _count(session) == 1 and _batch(session).state == "saved"


def test_grades_are_recorded_and_failing_grades_are_no_completion(client, session, campus):
    ids = campus["ids"]
    rows = [
        ["张三", ids[0], "QLU-DIG-01", DONE, "合格"],
        ["李䶮", ids[1], "QLU-DIG-01", DONE, "不合格"],
        ["欧阳娜娜", ids[2], "QLU-DIG-01", DONE, "Fail"],
    ]
    page = staff_preview(client, session, campus["a"], "a.xlsx", files.xlsx(rows))
    assert text(page, "#n-accepted") == "1" and text(page, "#n-failed") == "2"
    assert "不算结业" in page.text
    press(client, page, "save")
    session.expire_all()
    (completion,) = session.exec(select(Completion)).all()
    assert (completion.grade, completion.score) == ("合格", None)
    # A failing grade later never withdraws the recorded completion silently.
    again = staff_preview(
        client,
        session,
        campus["a"],
        "b.csv",
        files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "不通过"]]),
    )
    assert text(again, "#n-conflicts") == "1" and _count(session) == 1


def test_another_universitys_preview_cannot_be_saved(client, session, campus):
    rows = [["张三", campus["ids"][0], "QLU-DIG-01", DONE, "80"]]
    staff_preview(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    batch = _batch(session)
    client.cookies.clear()
    login(client, make_user(session, university=campus["b"]))
    token = csrf_of(client, "/staff/uploads")
    for action in ("save", "undo", "reread"):
        response = client.post(f"/staff/uploads/{batch.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert _count(session) == 0 and _batch(session).state == "preview"


def test_the_api_dry_run_classifies_and_writes_nothing(client, session, campus):
    _, token = auth.create_token(session, name="t", role="university", university_id=campus["a"].id)
    session.commit()
    ids = campus["ids"]
    rows = [
        ["张三", ids[0], "QLU-DIG-01", DONE, "80"],
        ["李䶮", ids[1], "QLU-DIG-01", DONE, "不及格"],
        ["王五", campus["outsider"], "QDU-DIG-01", DONE, "80"],
    ]
    response = client.post(
        "/api/v1/completions?dry_run=true",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.xlsx", files.xlsx(rows))},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["counts"]["new"] == 1 and body["counts"]["failed"] == 1
    assert body["counts"]["error"] == 1
    assert [o["status"] for o in body["outcomes"]] == ["new", "failed", "error"]
    assert body["outcomes"][2]["field"] == "course_code"
    assert _count(session) == 0 and _count(session, CompletionBatch) == 0
    saved = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.xlsx", files.xlsx(rows))},
    ).json()
    assert (saved["state"], saved["accepted"], saved["failed"]) == ("saved", 1, 1)
    assert _count(session) == 1


def test_rows_without_a_date_or_score_are_skipped_not_refused(client, session, campus):
    # The enrollment list comes back with rows for the trainees who have not completed.
    ids = campus["ids"]
    rows = [["张三", ids[0], "QLU-DIG-01", DONE, ""], ["李䶮", ids[1], "QLU-DIG-01", "", ""]]
    page = staff_preview(client, session, campus["a"], "list.xlsx", files.xlsx(rows))
    assert text(page, "#n-accepted") == "1" and text(page, "#n-skipped") == "1"
    assert text(page, "#n-rejected") == "0" and "不记录" in page.text
    # A score without its date is still an error: the date is what is recorded.
    scored = staff_preview(
        client,
        session,
        campus["a"],
        "b.xlsx",
        files.xlsx([["李䶮", ids[1], "QLU-DIG-01", "", "90"]]),
    )
    assert text(scored, "#n-rejected") == "1"
