"""A fresh database for every test: SQLite by default, PostgreSQL when DANDELION_TEST_POSTGRES is set.

The schema is built once per run through the real Alembic migrations; each test then gets
a copy of the migrated SQLite file, or the PostgreSQL tables emptied (cities kept).
"""

import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app import migrate
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.factories import csrf_of, login, make_university, make_user

POSTGRES_URL = os.environ.get("DANDELION_TEST_POSTGRES", "")
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> str:
    """The migrated template database: a SQLite file path, or the PostgreSQL URL."""
    if POSTGRES_URL:
        migrate.upgrade(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return str(path)


def _fresh_database(migrated: str, data_dir: Path) -> str:
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name != "city"]
        with engine.begin() as conn:
            quoted = ", ".join(f'"{t}"' for t in tables)  # "user" is a reserved word
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return POSTGRES_URL
    target = data_dir / "dandelion.db"
    shutil.copy(migrated, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(tmp_path, migrated) -> Settings:
    """The settings of one test's installation, as an object: the app under test is built
    from it (create_app(settings)); nothing is read from the environment or a .env file."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=_fresh_database(migrated, data_dir),
        secret_key=SECRET,
        public_url="http://testserver",
        jobs_immediate=True,  # tasks run inside the request; tests/jobs runs real workers too
        _env_file=None,
    )


def environment_of(settings: Settings) -> dict[str, str]:
    """For a child process (the CLI, a killed worker): these settings as its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
    return {
        **env,
        "DANDELION_ENVIRONMENT": settings.environment,
        "DANDELION_DATA_DIR": str(settings.data_dir),
        "DANDELION_DATABASE_URL": settings.database_url,
        "DANDELION_SECRET_KEY": settings.secret_key,
        "DANDELION_PUBLIC_URL": settings.public_url,
    }


def run_cli(settings: Settings, args: list[str]):
    """The `dandelion` command as an operator runs it, this test's installation as its environment."""
    from typer.testing import CliRunner

    from app.cli import app as cli

    return CliRunner().invoke(cli, args, env=environment_of(settings))


@pytest.fixture
def web_app(settings, request):
    application = create_app(settings)
    yield application
    if request.node.get_closest_marker("uncounted") is None:
        _counters_agree(application)
    application.state.engine.dispose()


def _counters_agree(application) -> None:
    """After every test: the goals' counters equal a recount from the records (the oracle of
    app/goals/tally.py), whatever the test wrote and however."""
    from app.goals import tally

    with application.state.sessions() as s:
        differences = tally.differences(s)
    assert not differences, f"goal counters differ from a recount: {differences[:5]}"


@pytest.fixture
def app_with(settings):
    """Another app on this test's database and data folder, with some settings changed."""
    apps = []

    def make(**changes):
        apps.append(create_app(settings.model_copy(update=changes)))
        return apps[-1]

    yield make
    for application in apps:
        application.state.engine.dispose()


@pytest.fixture
def session(web_app):
    with web_app.state.sessions() as s:
        yield s


@pytest.fixture
def new_session(web_app):
    """Opens another session of the app's database, as another request or process would."""
    return web_app.state.sessions


@pytest.fixture
def client(web_app):
    with TestClient(web_app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def new_client(web_app):
    """Another browser: its own cookies, the same server."""
    clients = []

    def make() -> TestClient:
        c = TestClient(web_app, base_url="http://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


class Persona:
    """Someone using the site in their own browser: an administrator, a university's staff
    member, or an anonymous visitor. Requests go to their client (persona.get, persona.post)."""

    def __init__(self, client: TestClient, user=None, university=None):
        self.client, self.user, self.university = client, user, university

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf(self, path: str = "/login") -> str:
        return csrf_of(self.client, path)


def _logged_in(new_client, user, university=None) -> Persona:
    persona = Persona(new_client(), user, university)
    login(persona.client, user)
    return persona


@pytest.fixture
def university_a(session):
    return make_university(session, name="山东理工大学")


@pytest.fixture
def university_b(session):
    return make_university(session, name="青岛大学")


@pytest.fixture
def admin(session, new_client) -> Persona:
    return _logged_in(new_client, make_user(session, role="admin"))


@pytest.fixture
def security_admin(session, new_client) -> Persona:
    """The security administrator (三员): security policy, nothing of the activity's data."""
    return _logged_in(new_client, make_user(session, role="security"))


@pytest.fixture
def auditor(session, new_client) -> Persona:
    """The auditor (三员): reads the audit log and nothing else."""
    return _logged_in(new_client, make_user(session, role="auditor"))


@pytest.fixture
def staff_a(session, new_client, university_a) -> Persona:
    return _logged_in(new_client, make_user(session, university=university_a), university_a)


@pytest.fixture
def staff_b(session, new_client, university_b) -> Persona:
    return _logged_in(new_client, make_user(session, university=university_b), university_b)


@pytest.fixture
def anonymous(new_client) -> Persona:
    return Persona(new_client())
