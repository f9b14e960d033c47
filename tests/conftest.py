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
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401
from app import migrate
from app.config import get_settings
from app.db import make_engine
from app.main import create_app

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
def settings(tmp_path, migrated, monkeypatch):
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    url = _fresh_database(migrated, data_dir)
    for key, value in {"ENVIRONMENT": "test", "DATA_DIR": str(data_dir), "DATABASE_URL": url,
                       "SECRET_KEY": SECRET, "PUBLIC_URL": "http://testserver"}.items():
        monkeypatch.setenv(f"DANDELION_{key}", value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def web_app(settings):
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def session(web_app):
    with Session(web_app.state.engine, expire_on_commit=False) as s:
        yield s


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
