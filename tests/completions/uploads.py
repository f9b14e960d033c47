"""Uploading a file the way staff do, and the pieces hostile-file tests build from."""

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


def staff_upload(client, session, university, filename, content, encoding=""):
    login(client, make_user(session, university=university))
    return client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads"), "encoding": encoding},
        files={"file": (filename, content)},
        follow_redirects=True,
    )
