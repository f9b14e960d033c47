"""Issuing as a job through HTTP (tasks run at once in tests), the job page and its JSON twins."""

from sqlmodel import select

from app.auth import service as auth
from app.certificates.models import Certificate
from app.jobs.models import Job
from tests.factories import csrf_of, make_user
from tests.html import flash, page, text, texts
from tests.jobs.conftest import upload_completions

RARE = "王\U00031350"  # CJK Extension H: a valid name no installed font can print


def _press(persona, course):
    path = f"/staff/courses/{course.code}"
    return persona.post(
        f"{path}/certificates", data={"csrf_token": csrf_of(persona, path)}, follow_redirects=False
    )


def test_pressing_issue_queues_a_job_and_shows_its_page(client, session, course_of_staff):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["李䶮", "𠮷田", "张三"])
    pressed = _press(client, course)
    assert pressed.status_code == 303
    job = session.exec(select(Job)).one()
    assert pressed.headers["location"] == f"/jobs/{job.id}"
    shown = client.get(pressed.headers["location"])
    assert "3" in flash(shown)
    assert (job.kind, job.state, job.total, job.done, job.failed) == (
        "certificates.issue",
        "done",
        3,
        3,
        0,
    )
    assert job.university_id == course_of_staff["university"].id
    assert len(session.exec(select(Certificate)).all()) == 3
    assert text(shown, "[data-job=state]") == "已完成"
    assert page(shown).select_one("[data-job=bar]")["style"] == "width: 100%"
    assert course_of_staff["staff"].email in shown.text  # who started it
    links = [a["href"] for a in page(shown).select("#job a.button")]
    assert links == [f"/staff/courses/{course.code}"]
    # The page runs its same-origin script and no inline one.
    scripts = page(shown).select("script")
    assert [s.get("src") for s in scripts] == ["/static/jobs.js"] and not scripts[0].string
    policy = shown.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert client.get("/static/jobs.js").status_code == 200


def test_pressing_again_says_nothing_is_pending_and_starts_no_job(client, session, course_of_staff):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三"])
    _press(client, course)
    again = _press(client, course)
    assert again.headers["location"] == f"/staff/courses/{course.code}"
    assert flash(client.get(again.headers["location"])) == "本课程的每一条结业记录都已有结业证书"
    assert len(session.exec(select(Job)).all()) == 1
    assert len(session.exec(select(Certificate)).all()) == 1


def test_an_unprintable_name_fails_its_item_masked_and_named_the_rest_go_on(
    client, session, course_of_staff
):
    course = course_of_staff["course"]
    upload_completions(client, session, course, [RARE, "张三"])
    shown = client.get(_press(client, course).headers["location"])
    job = session.exec(select(Job)).one()
    assert (job.state, job.done, job.failed) == ("done", 1, 1)
    rows = texts(shown, "table tbody tr")
    assert len(rows) == 1 and "U+31350" in rows[0] and "王*" in rows[0]
    assert RARE not in shown.text  # the holder's name stays masked
    assert [c.holder_name for c in session.exec(select(Certificate))] == ["张三"]
    body = client.get(f"/jobs/{job.id}.json").json()
    assert (
        body["failed_items"][0]["who"] == "王*" and "U+31350" in body["failed_items"][0]["message"]
    )


def test_the_api_answers_202_with_the_job_and_its_status(client, session, course_of_staff):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三", "李四"])
    _, token = auth.create_token(
        session, name="教务系统", role="university", university_id=course_of_staff["university"].id
    )
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post(f"/api/v1/courses/{course.code}/certificates", headers=headers)
    assert answer.status_code == 202
    body = answer.json()
    assert answer.headers["location"] == body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    assert body["url"] == f"/jobs/{body['job_id']}"
    status = client.get(body["status_url"], headers=headers).json()
    assert (status["state"], status["done"], status["total"], status["failed_items"]) == (
        "done",
        2,
        2,
        [],
    )
    assert status["started_by"] == "API 令牌“教务系统”"
    again = client.post(f"/api/v1/courses/{course.code}/certificates", headers=headers)
    assert again.status_code == 200 and again.json()["job_id"] is None
    assert client.get(body["status_url"]).status_code == 401


def test_another_university_s_job_is_not_found(
    client, session, course_of_staff, staff_b, admin, new_client
):
    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三"])
    job_path = _press(client, course).headers["location"]
    for path in (job_path, f"{job_path}.json"):
        assert staff_b.get(path).status_code == 404
        assert admin.get(path).status_code == 200
    assert "张三" not in staff_b.get("/jobs").text and job_path not in staff_b.get("/jobs").text
    assert job_path in client.get("/jobs").text and job_path in admin.get("/jobs").text
    # Issuing for another university's course is a 404 as before, and starts nothing.
    assert _press(staff_b, course).status_code == 404
    _, token_b = auth.create_token(
        session, name="b", role="university", university_id=staff_b.university.id
    )
    session.commit()
    headers = {"Authorization": f"Bearer {token_b}"}
    assert client.get(f"/api/v1{job_path}", headers=headers).status_code == 404
    assert len(session.exec(select(Job)).all()) == 1
    assert new_client().get(job_path, follow_redirects=False).status_code == 303  # log in first


def test_bad_job_ids_are_a_404_or_422_never_a_500(client, session, course_of_staff):
    for path, expected in (
        ("/jobs/abc", 422),
        ("/jobs/0", 422),
        ("/jobs/-1", 422),
        ("/jobs/99999999999999999999", 422),
        ("/jobs/2147483648", 422),
        ("/jobs/2147483647", 404),
        ("/jobs/12.json", 404),
        ("/jobs/x.json", 422),
    ):
        assert client.get(path).status_code == expected, path
    _, token = auth.create_token(session, name="admin", role="admin")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/jobs/abc", headers=headers).status_code == 422
    assert client.get("/api/v1/jobs/2147483647", headers=headers).status_code == 404


def test_a_queued_job_waits_for_a_worker(app_with, session, course_of_staff, client):
    """Without immediate mode and with no worker running, the page answers: the job waits."""
    from fastapi.testclient import TestClient

    from tests.factories import login

    course = course_of_staff["course"]
    upload_completions(client, session, course, ["张三"])
    queued_app = app_with(jobs_immediate=False)
    with TestClient(queued_app, base_url="http://testserver") as browser:
        login(browser, make_user(session, university=course_of_staff["university"]))
        shown = browser.get(_press(browser, course).headers["location"])
        assert text(shown, "[data-job=state]") == "等待处理"
        assert page(shown).select_one("#job")["data-finished"] == "false"
        assert text(shown, "[data-job=counts]") == "共 1 项：已完成 0 项，未成功 0 项"
    assert session.exec(select(Certificate)).all() == []
