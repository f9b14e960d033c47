"""A clerk's whole round with certificates in Debian's Chromium, against a live server and a
real `dandelion worker` process: preview and confirm, watch the job's bar reach 100 %, print
the course as one PDF and download it, revoke one certificate and reissue another, and see
what the verification page says of each."""

import io
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pypdf
import pytest
from playwright.sync_api import expect

from app.i18n import translations
from app.jobs import queue as jobs_queue
from app.main import create_app
from tests.browser.conftest import browser, live_server, page  # noqa: F401  (fixtures)
from tests.certificates import issued
from tests.conftest import environment_of
from tests.factories import PASSWORD, login, make_course, make_university, make_user
from tests.jobs.conftest import upload_completions

ROOT = Path(__file__).resolve().parents[2]
N = 20
NAMES = [f"学员{chr(0x4E00 + 7 * n)}" for n in range(N)]
FULL = re.compile(r"^width: 100%;?$")
JOB_TIMEOUT = 120_000  # ms: a loaded machine shared with others; it takes some seconds


def zh(message: str, **params) -> str:
    text = translations("zh").gettext(message)
    return text % params if params else text


@pytest.fixture
def web_app(settings):
    """The app with a real queue: jobs go to the worker process, not into the request."""
    application = create_app(settings.model_copy(update={"jobs_immediate": False}))
    jobs_queue.of(application).huey.flush()  # nothing another test left in a shared queue
    yield application
    application.state.engine.dispose()


@pytest.fixture
def worker(web_app, settings):
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", "1"],
        cwd=ROOT,
        env=environment_of(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in process.stderr or []:  # it says so once it waits for work
        lines.append(line)
        if "worker started" in line:
            break
    assert process.poll() is None, "".join(lines)
    yield process
    process.terminate()
    process.wait(30)


def _verify_url(live: str, qr: str) -> str:
    """The printed QR code's address, on the test's live server."""
    parts = urlsplit(qr)
    return f"{live}{parts.path}?{parts.query}"


def test_a_clerk_issues_prints_revokes_and_reissues(
    live_server,  # noqa: F811
    page,  # noqa: F811
    client,
    session,
    settings,
    worker,
):
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-BROWSER-01", title="服装智能制造与MES")
    staff = make_user(session, university=university)
    login(client, staff)
    upload_completions(client, session, course, NAMES)
    page.set_default_timeout(30_000)

    page.goto(f"{live_server}/login")
    page.fill("#f-email", staff.email)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name=zh("Log in")).click()
    page.goto(f"{live_server}/staff/courses/{course.code}")

    # Preview: who will receive a certificate, then confirm.
    page.get_by_role("link", name=zh("Issue certificates for new completions")).click()
    expect(page.locator("table.to-issue tbody tr")).to_have_count(N)
    page.get_by_role("button", name=zh("Confirm: issue %(n)s certificates", n=N)).click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("[data-job=state]")).to_have_text(zh("Finished"), timeout=JOB_TIMEOUT)
    expect(page.locator("[data-job=bar]")).to_have_attribute("style", FULL)
    expect(page.locator("[data-job=counts]")).to_have_text(
        zh("%(done)s done, %(failed)s failed, of %(total)s", done=N, failed=0, total=N)
    )
    page.get_by_role("link", name=zh("The course's certificates")).click()
    expect(page.locator("#trainees tbody td.state", has_text=zh("Certified"))).to_have_count(N)

    # A print run of the whole course, downloaded from its job page.
    page.get_by_role("button", name=zh("Print every valid certificate shown")).click()
    expect(page.locator("[data-job=state]")).to_have_text(zh("Finished"), timeout=JOB_TIMEOUT)
    expect(page.locator("[data-job=bar]")).to_have_attribute("style", FULL)
    with page.expect_download() as info:
        page.get_by_role("link", name=zh("Download the print file (PDF)")).click()
    content = Path(info.value.path()).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) == N
    printed = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert all(name in text for name, text in zip(NAMES, printed, strict=True))
    qr_of = {name: issued.qr_link(_one_page(reader, n)) for n, name in enumerate(NAMES[:3])}

    # Revoke the first with a reason; reissue the second.
    certs = issued.by_holder(session)
    first, second = certs[NAMES[0]], certs[NAMES[1]]
    page.goto(f"{live_server}/staff/courses/{course.code}")
    page.locator("#trainees tbody tr", has_text=NAMES[0]).get_by_role("link").first.click()
    page.fill("#f-reason", "结业记录录入有误")
    page.get_by_role("button", name=zh("Revoke this certificate")).click()
    expect(page.locator("p.flash")).to_have_text(
        zh("Certificate revoked: the verification page now says so")
    )
    page.goto(f"{live_server}/staff/courses/{course.code}")
    page.locator("#trainees tbody tr", has_text=NAMES[1]).get_by_role("link").first.click()
    page.get_by_role("button", name=zh("Reissue"), exact=True).click()
    expect(page.locator("p.flash")).to_have_text(
        zh("Certificate reissued: this is the new one, and the old one now names it")
    )
    replacement = issued.by_holder(session)[NAMES[1]]
    assert replacement.serial != second.serial and replacement.supersedes_id == second.id

    # What a verifier sees, scanning the printed papers and typing the new serial.
    page.goto(_verify_url(live_server, qr_of[NAMES[0]]))
    verdict = page.locator("section.verdict")
    expect(verdict).to_have_attribute("data-state", "no_longer_valid")
    expect(verdict.locator("h2")).to_contain_text(zh("This certificate was revoked"))
    expect(verdict).to_contain_text("结业记录录入有误")
    page.goto(_verify_url(live_server, qr_of[NAMES[1]]))
    expect(verdict.locator("h2")).to_contain_text(zh("This certificate was replaced by a new one"))
    page.goto(_verify_url(live_server, qr_of[NAMES[2]]))
    expect(verdict).to_have_attribute("data-state", "valid")
    expect(verdict.locator("h2")).to_contain_text(zh("Valid certificate"))
    page.goto(f"{live_server}/verify/{replacement.serial}")
    expect(verdict.locator("h2")).to_contain_text(zh("On record: issued, not revoked"))
    assert issued.get(session, first.serial).status == "revoked"
    assert issued.get(session, second.serial).status == "superseded"


def _one_page(reader: pypdf.PdfReader, n: int) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[n])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
