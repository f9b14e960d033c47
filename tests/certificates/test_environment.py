"""A machine without the certificate fonts or HarfBuzz subsetting: production refuses to start,
naming the Debian package; elsewhere a warning; printing answers 503 with the same message.

The missing fonts are real: fontconfig is pointed (FONTCONFIG_FILE) at an empty font folder,
in this process for start-up checks and in child processes for printing, since a process that
has printed once keeps its fonts loaded."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import weasyprint.text.ffi

from app.certificates.environment import RefusedToStart
from app.main import create_app
from tests.certificates.test_pdf import empty_fontconfig
from tests.conftest import environment_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fontless(tmp_path) -> str:
    return empty_fontconfig(tmp_path)


def test_production_refuses_to_start_without_the_fonts(settings, fontless, monkeypatch):
    monkeypatch.setenv("FONTCONFIG_FILE", fontless)
    with pytest.raises(RefusedToStart) as refused:
        create_app(settings.model_copy(update={"environment": "production"}))
    assert "Noto Serif CJK SC" in str(refused.value)
    assert "fonts-noto-cjk" in str(refused.value)


def test_production_refuses_to_start_without_harfbuzz_subsetting(settings, monkeypatch):
    monkeypatch.setattr(weasyprint.text.ffi, "harfbuzz_subset", None)
    with pytest.raises(RefusedToStart, match="libharfbuzz-subset0"):
        create_app(settings.model_copy(update={"environment": "production"}))


def test_development_starts_with_a_warning(app_with, fontless, monkeypatch, caplog):
    monkeypatch.setenv("FONTCONFIG_FILE", fontless)
    with caplog.at_level(logging.WARNING, logger="app.certificates"):
        application = app_with(environment="development")
    assert application.state.settings.environment == "development"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("fonts-noto-cjk" in w and "Noto Sans CJK SC" in w for w in warnings), warnings


def test_a_font_cache_that_cannot_be_written_is_a_warning(app_with, tmp_path, monkeypatch, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the cache would have to be made inside a file
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    with caplog.at_level(logging.WARNING, logger="app.certificates"):
        app_with(environment="production")  # starts: certificates still print, only bigger
    [warning] = [r.getMessage() for r in caplog.records if r.name == "app.certificates"]
    assert "cannot be written" in warning and "XDG_CACHE_HOME" in warning


def test_production_starts_quietly_with_the_fonts(settings, caplog):
    with caplog.at_level(logging.WARNING, logger="app.certificates"):
        application = create_app(settings.model_copy(update={"environment": "production"}))
    application.state.engine.dispose()
    assert not [r for r in caplog.records if r.name.startswith("app.certificates")]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_server_and_the_worker_refuse_to_start_in_production(settings, fontless, command):
    production = settings.model_copy(update={"environment": "production"})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dandelion"), command],
        env={**environment_of(production), "FONTCONFIG_FILE": fontless},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a command that did not refuse would serve until killed
    )
    assert done.returncode == 1, done.stderr
    assert "will not start in production" in done.stderr
    assert "fonts-noto-cjk" in done.stderr and "Noto Serif CJK SC" in done.stderr


def without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}


PRINT_WITHOUT_FONTS = """
import json
from dataclasses import replace
from app import i18n
from app.certificates import pdf, renderer
from tests.certificates.test_pdf import BASE_VIEW

answers = {}
try:
    pdf.require()
except pdf.PrintingUnavailable as exc:
    answers["require"] = [exc.status, exc.params["package"]]
try:
    pdf.unprintable_chars("李四")
except pdf.PrintingUnavailable as exc:
    answers["check"] = [exc.status, i18n.gettext(exc.message, **exc.params)]
try:
    pdf.render_pdf(BASE_VIEW)
except pdf.PrintingUnavailable as exc:
    answers["render"] = [exc.status, exc.params["package"]]
[result] = renderer.render_many([BASE_VIEW])
answers["many"] = [type(result).__name__, getattr(result, "params", {}).get("package")]
print(json.dumps(answers, ensure_ascii=False))
"""


def test_printing_without_the_fonts_answers_503_naming_the_package(fontless):
    done = subprocess.run(
        [sys.executable, "-c", PRINT_WITHOUT_FONTS],
        env={**without_settings(), "FONTCONFIG_FILE": fontless},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = json.loads(done.stdout.splitlines()[-1])
    status, message = answers["check"]
    assert status == 503
    # In the clerk's language (Chinese by default), naming what to install.
    assert "Noto Serif CJK SC" in message and "fonts-noto-cjk" in message
    assert "管理员" in message
    assert answers["require"] == answers["render"] == [503, "fonts-noto-cjk"]
    assert answers["many"] == ["PrintingUnavailable", "fonts-noto-cjk"]


# A staff member presses "issue" on a machine that lost its fonts: the press is answered 503
# at once, naming the package, and no job is queued; an item of a job queued before the fonts
# went fails with the same reason instead of being retried as "something went wrong".
ISSUE_WITHOUT_FONTS = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from sqlmodel import select
from app import clock, migrate
from app.certificates import issuing
from app.completions.models import Completion
from app.config import Settings
from app.jobs.models import Job
from app.jobs.registry import ItemRefused
from app.main import create_app
from tests.factories import login, make_course, make_enrollment, make_university, make_user

data = Path(sys.argv[1])
url = f"sqlite:///{data}/dandelion.db"
migrate.upgrade(url)
settings = Settings(environment="test", data_dir=data, database_url=url, jobs_immediate=True,
                    secret_key="x" * 48, public_url="http://testserver", _env_file=None)
app = create_app(settings)
answers = {}
with app.state.sessions() as session, TestClient(app, base_url="http://testserver") as client:
    university = make_university(session)
    course = make_course(session, university)
    enrollment, _ = make_enrollment(session, course)
    completion = Completion(enrollment_id=enrollment.id, course_id=course.id,
                            university_id=university.id, trainee_id=enrollment.trainee_id,
                            company_id=enrollment.company_id, completed_on=clock.today(),
                            hours=course.hours)
    session.add(completion)
    session.commit()
    login(client, make_user(session, university=university))
    page = client.get(f"/staff/courses/{course.code}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    pressed = client.post(f"/staff/courses/{course.code}/certificates",
                          data={"csrf_token": token}, follow_redirects=False)
    answers["press"] = [pressed.status_code, "fonts-noto-cjk" in pressed.text]
    answers["jobs"] = len(session.exec(select(Job)).all())
    try:
        issuing.issue_one(session, completion.id, public_url=settings.public_url,
                          data_dir=data, today=clock.today())
    except ItemRefused as exc:
        answers["item"] = exc.params.get("package")
print(json.dumps(answers))
"""


def test_issuing_without_the_fonts_is_refused_naming_the_package(fontless, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", ISSUE_WITHOUT_FONTS, str(tmp_path)],
        env={**without_settings(), "FONTCONFIG_FILE": fontless},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.splitlines()[-1])
    assert answers == {"press": [503, True], "jobs": 0, "item": "fonts-noto-cjk"}
