"""The API documentation works in a real browser under its own Content-Security-Policy."""

import re

from playwright.sync_api import expect

# ReDoc's logo comes from its CDN: refusing what lies off this site is the policy doing its job.
OFF_SITE = re.compile(r"'https?://(?!127\.0\.0\.1[:/])")


def _watch_for_refusals(page) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda m: (
            refused.append(m.text)
            if "Content Security Policy" in m.text and not OFF_SITE.search(m.text)
            else None
        ),
    )
    return refused


def test_swagger_ui_lists_the_api(live_server, page):
    refused = _watch_for_refusals(page)
    page.goto(f"{live_server}/docs")
    path = page.locator(".opblock-summary-path", has_text="/api/v1/enrollments")
    expect(path.first).to_be_visible()
    assert refused == []


def test_redoc_lists_the_api(live_server, page):
    refused = _watch_for_refusals(page)
    page.goto(f"{live_server}/redoc")
    expect(page.get_by_text("/api/v1/enrollments").first).to_be_attached()
    assert refused == []
