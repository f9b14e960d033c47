"""A real server and a real browser: uvicorn in a thread, Debian's Chromium driven by Playwright.

Playwright's own browser download is never used (it cannot reach its CDN here): Chromium comes
from Debian's package, which scripts/setup.sh installs.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Without the networking flags Chromium keeps calling Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(web_app):
    """The app of the `web_app` fixture, served over HTTP; yields its base URL."""
    with serving(web_app) as base:
        yield base


# Per module, so that Playwright's event loop is gone before other tests run.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A new browser profile per test: no cookies, Chinese first like most trainees' phones."""
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone(browser):
    """A phone-sized browser: 390 x 844 CSS pixels, touch."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@contextmanager
def serving(application) -> Iterator[str]:
    """Any app served over HTTP in a thread (live_server's, server_and_worker's); yields its
    base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server_and_worker(settings, web_app, tmp_path):
    """The installation as scripts/start.sh runs it: the app on its real queue (not the tests'
    immediate mode) served over HTTP, and one `dandelion worker` process beside it, on this
    test's database and data folder. Yields the base URL; the worker is stopped after."""
    from app.jobs import queue
    from app.main import create_app
    from tests.conftest import environment_of

    application = create_app(settings.model_copy(update={"jobs_immediate": False}))
    queue.of(application).huey.flush()  # nothing another test left in a shared PostgreSQL queue
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--threads", "1"],
            cwd=ROOT,
            env=environment_of(settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        with serving(application) as base:
            yield base
        assert worker.poll() is None, f"the worker stopped:\n{log.read_text()}"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        application.state.engine.dispose()
