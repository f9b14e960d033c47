"""The log of a whole journey through a real server: one JSON object a line, one access line
per request, and no ID number, mobile, cookie, token or query string anywhere in it."""

import json
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app import clock
from app.certificates.models import Certificate
from tests import files
from tests.certificates.issued import issue, qr_query
from tests.completions.uploads import upload_and_save
from tests.conftest import environment_of, run_cli
from tests.factories import (
    PASSWORD,
    csrf_of,
    login,
    make_company,
    make_course,
    make_university,
    make_user,
    new_id_number,
)

ROOT = Path(__file__).resolve().parents[2]
DONE = (clock.today() - timedelta(days=1)).isoformat()
PEOPLE = [("李䶮", "13912345678"), ("王芳", "13800138000"), ("赵磊", "15011112222")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(settings, tmp_path, session):
    """`dandelion serve` as an operator starts it, its log (stderr) kept in a file."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **environment_of(settings.model_copy(update={"public_url": url})),
        "DANDELION_JOBS_IMMEDIATE": "true",  # certificates issued inside the request
        "DANDELION_LOG_FORMAT": "json",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-upgrade"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_for(url, process, log)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not start: {log.read_text()}")


def test_a_whole_journey_leaves_no_personal_data_or_secret_in_the_log(server, settings, session):
    url, log = server
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-LOG-01")
    uscc = make_company(session).uscc
    staff = make_user(session, university=university)
    ids = [new_id_number() for _ in PEOPLE]
    secrets: list[str] = [PASSWORD]

    with httpx.Client(base_url=url, timeout=120) as trainee:
        for (name, mobile), id_number in zip(PEOPLE, ids, strict=True):
            body = {"course_code": course.code, "name": name, "id_number": id_number}
            body |= {"mobile": mobile, "company_uscc": uscc, "consent": True}
            assert trainee.post("/api/v1/enrollments", json=body).status_code == 201
        # Personal data in a query string as well: only the route's template is logged.
        trainee.get("/courses", params={"q": PEOPLE[0][1]})

    with httpx.Client(base_url=url, timeout=120) as browser:
        login(browser, staff)
        secrets.append(browser.cookies["dandelion_session"])
        rows = [[n, i, course.code, DONE, "90"] for (n, _), i in zip(PEOPLE, ids, strict=True)]
        upload_and_save(browser, "completions.xlsx", files.xlsx(rows))
        issue(browser, course)
        session.expire_all()
        certificates = session.exec(select(Certificate)).all()
        assert len(certificates) == len(PEOPLE)
        for cert in certificates:
            assert browser.get(f"/certificates/{cert.serial}.pdf").status_code == 200

    token = run_cli(settings, ["token", "create", "--university", university.code])
    secrets.append(token.stdout.strip().splitlines()[-1])
    api = httpx.get(f"{url}/api/v1/courses", headers={"Authorization": f"Bearer {secrets[-1]}"})
    assert api.status_code == 200

    with httpx.Client(base_url=url, timeout=120) as trainee:
        # The trainee looks up their certificates and downloads one by its signed link.
        form = {"csrf_token": csrf_of(trainee, "/certificates/find")}
        form |= {"id_number": ids[0], "mobile": PEOPLE[0][1]}
        found = trainee.post("/certificates/find", data=form)
        link = re.search(r'href="(/certificates/[^"]+\.pdf\?t=([^"]+))"', found.text)
        assert link, found.text
        secrets.append(link.group(2).replace("&amp;", "&"))
        assert trainee.get(link.group(1).replace("&amp;", "&")).status_code == 200
        pdf = (settings.data_dir / certificates[0].pdf_path).read_bytes()
        query = qr_query(pdf)  # the QR code's signature, as a phone sends it
        secrets.append(query["s"])
        trainee.get(f"/verify/{certificates[0].serial}", params=query)
        trainee.get("/verify", headers={"X-Request-ID": ids[1]})  # smuggled in a header

    text = log.read_text(encoding="utf-8")
    # The command's own start-up warnings are plain text, printed before the server starts.
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    for value in [*ids, *(m for _, m in PEOPLE), *secrets]:
        assert value not in text and value.lower() not in text, f"{value[:4]}... is in the log"
    access = [line for line in lines if line["logger"] == "app.access"]
    routes = {line["route"] for line in access}
    assert {"/api/v1/enrollments", "/certificates/{serial}.pdf", "/verify/{serial}"} <= routes
    downloads = [line for line in access if line["route"] == "/certificates/{serial}.pdf"]
    assert {line["user_id"] for line in downloads} == {staff.id, None}  # staff, then the trainee
    assert all(
        set(line) >= {"time", "level", "request_id", "status", "duration_ms"} for line in access
    )
    assert len({line["request_id"] for line in access}) == len(access)
    assert not any("?" in (line["route"] or "") for line in access)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)  # one line a request
