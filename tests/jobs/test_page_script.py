"""The job page in a real browser: its same-origin script redraws the bar as the ledger moves,
without reloading the page, under the site's CSP; once the job is done it shows what was made."""

from playwright.sync_api import expect

from app.certificates import issuing
from app.db import id_of, utcnow
from app.i18n import translations
from app.jobs import runner
from app.jobs import service as jobs
from tests.browser.conftest import browser, live_server, page  # noqa: F401  (fixtures)
from tests.factories import PASSWORD
from tests.jobs.conftest import upload_completions


def zh(message: str, **params) -> str:
    return (
        translations("zh").gettext(message) % params
        if params
        else translations("zh").gettext(message)
    )


def test_the_bar_follows_the_job_without_a_reload(
    live_server,  # noqa: F811
    page,  # noqa: F811
    client,
    session,
    new_session,
    settings,
    course_of_staff,
):
    course, staff = course_of_staff["course"], course_of_staff["staff"]
    upload_completions(client, session, course, ["张三", "李四", "王五", "赵六"])
    job = issuing.start(session, course, actor=staff.actor)  # queued: no worker has it yet
    assert job is not None
    session.commit()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.fill("#f-email", staff.email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()
    page.goto(f"{live_server}/jobs/{job.id}")
    expect(page.locator("[data-job=state]")).to_have_text(zh("Waiting for a worker"))
    page.evaluate("window.stayed = true")  # gone if the page reloads

    # A worker does two items (marked by hand here, the bar is what is under test).
    for item in jobs.lease(session, id_of(job), now=utcnow(), seconds=60, size=2):
        jobs.mark_done(session, id_of(item), "x")
    jobs.refresh(session, id_of(job))
    session.commit()
    counts = zh("%(done)s done, %(failed)s failed, of %(total)s", done=2, failed=0, total=4)
    expect(page.locator("[data-job=counts]")).to_have_text(counts)
    expect(page.locator("[data-job=state]")).to_have_text(zh("Running"))
    assert page.locator("[data-job=bar]").get_attribute("style") == "width: 50%;"
    assert page.evaluate("window.stayed") is True

    runner.run(new_session, settings, id_of(job))  # the rest, for real
    expect(page.locator("[data-job=state]")).to_have_text(zh("Finished"))
    expect(page.get_by_role("link", name=zh("The course's certificates"))).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
