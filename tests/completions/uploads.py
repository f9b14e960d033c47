"""Uploading a file the way staff do, and the pieces hostile-file tests build from."""

import re

import pytest

from app.completions.parsing import UploadRefused, parse_completion_file
from tests.factories import csrf_of, login, make_user
from tests.files import CHINESE_HEADER, inline_row

HEADER = inline_row(1, CHINESE_HEADER)
ROW = ["张三", "370102199001011234", "C2026001", "2026-05-01", "85"]


def refused(filename: str, data: bytes) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        parse_completion_file(filename, data)
    return caught.value


def staff_preview(client, session, university, filename, content, encoding="", kind="completions"):
    """The file uploaded on the page (kind: what the page's "The file holds" says): the
    preview page, nothing saved."""
    login(client, make_user(session, university=university))
    return client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads"), "encoding": encoding, "kind": kind},
        files={"file": (filename, content)},
        follow_redirects=True,
    )


def press(client, page, button: str, **fields: str):
    """Press a form button of a page by the form's action ending (save, undo, reread), with
    the form's other fields as given (consent="yes": the roster's box ticked)."""
    action = re.search(rf'action="([^"]+/{button})"', page.text)
    assert action, f"no {button} form on the page"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the page"
    return client.post(
        action.group(1), data={"csrf_token": token.group(1), **fields}, follow_redirects=True
    )


def staff_upload(client, session, university, filename, content, encoding=""):
    """The file uploaded and, when its preview has anything to save, saved: the batch page."""
    page = staff_preview(client, session, university, filename, content, encoding)
    if 'action="' in page.text and "/save" in page.text:
        return press(client, page, "save")
    return page


def upload_and_save(client, filename: str, content: bytes, *, token: str | None = None):
    """The logged-in staff member uploads the file and saves its preview: the batch page."""
    page = client.post(
        "/staff/uploads",
        data={"csrf_token": token or csrf_of(client, "/staff/uploads")},
        files={"file": (filename, content)},
        follow_redirects=True,
    )
    assert page.status_code == 200, page.text
    return press(client, page, "save") if "/save" in page.text else page
