"""A course's share link and QR code: posters and WeChat groups open straight on the course."""

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.factories import make_course, make_university
from tests.html import page


@pytest.fixture
def course(session):
    return make_course(session, make_university(session), code="QR-2026-01")


def test_the_course_page_shares_its_absolute_link_and_qr_code(client, course):
    shown = page(client.get(f"/courses/{course.code}"))
    share = shown.select_one("section.share")
    assert share is not None
    assert share.select_one("a")["href"] == f"http://testserver/courses/{course.code}"
    assert share.select_one("img.qr")["src"] == f"/courses/{course.code}/qr.svg"
    assert share.select_one("a[download]")["href"] == f"/courses/{course.code}/qr.png"


def test_the_svg_is_a_qr_code_titled_with_the_course_url(client, course):
    response = client.get(f"/courses/{course.code}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(response.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    title = svg.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == f"http://testserver/courses/{course.code}"
    assert svg.find("{http://www.w3.org/2000/svg}path") is not None  # the modules


def test_the_png_decodes_to_the_course_url(client, course, tmp_path):
    response = client.get(f"/courses/{course.code.lower()}/qr.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (Debian's zbar-tools) is not installed: the PNG is not decoded")
    image = tmp_path / "qr.png"
    image.write_bytes(response.content)
    decoded = subprocess.run(
        [zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True, check=True
    )
    assert decoded.stdout.strip() == f"http://testserver/courses/{course.code}"


def test_the_link_follows_the_public_url_not_the_host_header(app_with, course):
    from fastapi.testclient import TestClient

    application = app_with(public_url="https://peixun.example.cn/", allowed_hosts="evil.example")
    with TestClient(application, base_url="http://evil.example") as client:
        shown = page(client.get(f"/courses/{course.code}"))
    link = shown.select_one("section.share a")["href"]
    assert link == f"https://peixun.example.cn/courses/{course.code}"


def test_no_qr_code_for_a_course_that_does_not_exist(client):
    assert client.get("/courses/NOPE/qr.svg").status_code == 404
    assert client.get("/courses/NOPE/qr.png").status_code == 404
