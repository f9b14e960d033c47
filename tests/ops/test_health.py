"""/healthz and /readyz as a load balancer asks them: by the machine's address, no cookie."""

from fastapi.testclient import TestClient

from app import migrate

# A production-like installation: only its public host is served, yet the probe asks by address.
BY_ADDRESS = "http://10.0.0.5:8000"


def _probe(application, path: str):
    with TestClient(application, base_url=BY_ADDRESS) as balancer:
        return balancer.get(path)


def test_healthz_answers_by_address_without_cookies(app_with):
    application = app_with(environment="production", public_url="https://px.example.cn")
    response = _probe(application, "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    # Any other page asked by address is still refused: the exemption is the probes' only.
    assert _probe(application, "/").status_code == 400


def test_readyz_names_every_check_when_ready(web_app):
    response = _probe(web_app, "/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database": "ok", "migrations": "ok", "fonts": "ok", "queue": "ok"},
    }
    assert "set-cookie" not in response.headers


def test_probes_stay_out_of_the_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" not in paths and "/readyz" not in paths


def test_readyz_503_when_the_database_cannot_be_reached(app_with):
    application = app_with(database_url="postgresql://nobody@127.0.0.1:9/none")
    response = _probe(application, "/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["database"]
    assert body["checks"]["database"].startswith("unreachable")
    assert "migrations" not in body["checks"]  # not asked of a database that does not answer


def test_readyz_503_when_migrations_are_behind(app_with, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, revision="0001")
    response = _probe(app_with(database_url=url), "/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["migrations"]
    assert response.json()["checks"]["migrations"].startswith("at 0001, not ")


def test_readyz_503_when_never_migrated(app_with, tmp_path):
    response = _probe(app_with(database_url=f"sqlite:///{tmp_path / 'empty.db'}"), "/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["migrations"]
    assert "dandelion db upgrade" in response.json()["checks"]["migrations"]


def test_readyz_503_when_the_queue_cannot_be_opened(app_with, settings, tmp_path):
    # A SQLite installation (on PostgreSQL the queue is in the database itself) whose queue
    # file cannot be opened: a folder stands where the worker's huey.db should be.
    url = f"sqlite:///{tmp_path / 'one.db'}"
    migrate.upgrade(url)
    (settings.data_dir / "huey.db").mkdir()
    response = _probe(app_with(jobs_immediate=False, database_url=url), "/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["queue"]


def test_readyz_503_when_the_certificate_fonts_are_missing(web_app, tmp_path, monkeypatch):
    # fontconfig as WeasyPrint reads it, with no font folder at all: Noto CJK is not found.
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?><fontconfig></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    response = _probe(web_app, "/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["fonts"]
    assert "fonts-noto-cjk" in response.json()["checks"]["fonts"]


def test_healthz_still_answers_when_not_ready(app_with):
    application = app_with(database_url="postgresql://nobody@127.0.0.1:9/none")
    assert _probe(application, "/healthz").status_code == 200
