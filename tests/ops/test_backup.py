"""`dandelion backup` of a running installation, `dandelion restore` into a new one: every
record and every PDF is found again, through HTTP; a damaged backup is refused, named."""

import json
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from app import clock
from app.certificates.models import Certificate
from app.cli import app as cli
from app.db import make_engine
from app.main import create_app
from tests import files
from tests.certificates.issued import issue
from tests.completions.uploads import upload_and_save
from tests.conftest import POSTGRES_URL, environment_of, run_cli
from tests.factories import login, make_course, make_enrollment, make_university, make_user

DONE = (clock.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def installation(client, session):
    """A university's course with three certificates issued (PDFs) and its upload's original."""
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-BAK-01")
    people = [make_enrollment(session, course, name=n)[1] for n in ("李䶮", "王芳", "赵磊")]
    staff = make_user(session, university=university)
    login(client, staff)
    rows = [
        [n, i, course.code, DONE, "90"]
        for n, i in zip(("李䶮", "王芳", "赵磊"), people, strict=True)
    ]
    upload_and_save(client, "a.xlsx", files.xlsx(rows))
    issue(client, course)
    certificates = session.exec(select(Certificate)).all()
    assert len(certificates) == 3
    return {"staff": staff, "certificates": certificates}


@contextmanager
def new_database(settings, tmp_path):
    """Where a restore goes: a fresh SQLite file, or a new PostgreSQL database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'restored' / 'dandelion.db'}"
        return
    name = f"dandelion_restore_{uuid.uuid4().hex[:8]}"
    server = make_url(POSTGRES_URL).set(database="postgres").render_as_string(False)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _rows(url: str) -> dict[str, list]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(t.select().order_by(*t.primary_key.columns)).all()
                for t in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_a_backup_of_a_running_installation_restores_every_record_and_pdf(
    installation, settings, web_app, tmp_path
):
    backup = tmp_path / "backup"
    made = run_cli(settings, ["backup", str(backup)])  # the app above still has it open
    assert made.exit_code == 0, made.output
    manifest = json.loads((backup / "manifest.json").read_text())
    pdfs = [c.pdf_path for c in installation["certificates"]]
    assert {f"files/{p}" for p in pdfs} <= set(manifest["files"])
    assert any(name.startswith("files/uploads/") for name in manifest["files"])
    assert "the secret key is not in the data folder" in made.output  # given by the environment

    with new_database(settings, tmp_path) as url:
        restored = settings.model_copy(
            update={"data_dir": tmp_path / "restored", "database_url": url}
        )
        done = run_cli(restored, ["restore", str(backup)])
        assert done.exit_code == 0, done.output
        assert _rows(url) == _rows(settings.database_url)
        application = create_app(restored)
        try:
            with TestClient(application, base_url="http://testserver") as browser:
                login(browser, installation["staff"])
                for cert in installation["certificates"]:
                    pdf = browser.get(f"/certificates/{cert.serial}.pdf")
                    assert pdf.status_code == 200
                    assert pdf.content == (settings.data_dir / cert.pdf_path).read_bytes()
                    assert pdf.content.startswith(b"%PDF")
                page = browser.get(f"/verify/{installation['certificates'][0].serial}")
                assert page.status_code == 200
        finally:
            application.state.engine.dispose()


def test_a_damaged_backup_is_refused_naming_each_file(installation, settings, tmp_path):
    backup = tmp_path / "backup"
    assert run_cli(settings, ["backup", str(backup)]).exit_code == 0
    first, second = (f"files/{c.pdf_path}" for c in installation["certificates"][:2])
    (backup / first).write_bytes(b"%PDF-1.7 not what was backed up")
    (backup / second).unlink()
    target = settings.model_copy(update={"data_dir": tmp_path / "new"})
    done = run_cli(target, ["restore", str(backup)])
    assert done.exit_code == 1
    assert f"{first}: corrupt" in done.output and f"{second}: missing" in done.output
    assert not (tmp_path / "new").exists()  # nothing restored from a damaged backup


def test_a_folder_without_a_manifest_is_no_backup(settings, tmp_path):
    (tmp_path / "half").mkdir()
    done = run_cli(settings, ["restore", str(tmp_path / "half")])
    assert done.exit_code == 1 and "manifest.json" in done.output


def test_restore_refuses_an_installation_in_use_unless_forced(installation, settings, tmp_path):
    backup = tmp_path / "backup"
    assert run_cli(settings, ["backup", str(backup)]).exit_code == 0
    # The live installation itself: its data folder holds files.
    done = run_cli(settings, ["restore", str(backup)])
    assert done.exit_code == 1 and "--force" in done.output
    if POSTGRES_URL:
        return  # the database is the test's own: --force is tried on SQLite
    # A folder with a stray file, overwritten on purpose.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("left by hand")
    target = settings.model_copy(
        update={"data_dir": other, "database_url": f"sqlite:///{other / 'dandelion.db'}"}
    )
    assert run_cli(target, ["restore", str(backup)]).exit_code == 1
    forced = run_cli(target, ["restore", str(backup), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _rows(target.database_url) == _rows(settings.database_url)


def test_backup_never_overwrites_a_folder_or_writes_into_the_data_folder(settings, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    done = run_cli(settings, ["backup", str(tmp_path / "full")])
    assert done.exit_code == 1 and "not an empty folder" in done.output
    inside = run_cli(settings, ["backup", str(settings.data_dir / "backup")])
    assert inside.exit_code == 1 and "inside the data folder" in inside.output


def test_a_backup_holding_the_generated_secret_key_says_so(settings, tmp_path):
    env = environment_of(settings.model_copy(update={"environment": "development"}))
    del env["DANDELION_SECRET_KEY"]  # development keeps a generated key in the data folder
    done = CliRunner().invoke(cli, ["backup", str(tmp_path / "b")], env=env)
    assert done.exit_code == 0, done.output
    assert "holds the secret key" in done.output and "Keep it safe" in done.output
    key = Path(tmp_path / "b" / "files" / "secret_key")
    assert key.read_text() == (settings.data_dir / "secret_key").read_text()
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not POSTGRES_URL, reason="pg_dump is PostgreSQL's")
def test_without_pg_dump_the_backup_says_exactly_what_to_run(settings, tmp_path):
    env = {**environment_of(settings), "PATH": str(tmp_path / "no-tools")}
    done = CliRunner().invoke(cli, ["backup", str(tmp_path / "b")], env=env)
    assert done.exit_code == 1
    assert "the database is NOT in this backup" in done.output
    assert f"pg_dump --format=custom --no-owner --file={tmp_path / 'b' / 'database.dump'}" in (
        done.output
    )
    password = make_url(POSTGRES_URL).password
    assert not password or password not in done.output
