import pytest
from pydantic import ValidationError

from app.config import Settings


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("DANDELION_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="DANDELION_SECRET_KEY"):
        Settings(environment="production", data_dir=tmp_path, _env_file=None)


def test_development_generates_and_keeps_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("DANDELION_SECRET_KEY", raising=False)
    first = Settings(environment="development", data_dir=tmp_path, _env_file=None)
    second = Settings(environment="development", data_dir=tmp_path, _env_file=None)
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_short_secret_is_refused(tmp_path):
    with pytest.raises(ValidationError):
        Settings(environment="production", data_dir=tmp_path, secret_key="short", _env_file=None)


def test_default_database_is_sqlite_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DANDELION_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path, secret_key="x" * 40, _env_file=None)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'dandelion.db'}"


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "HttpOnly" in response.headers["set-cookie"]
