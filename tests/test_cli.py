"""The `dandelion` command against the test database, its tokens used over HTTP."""

from tests.conftest import run_cli as run
from tests.factories import make_university


def test_admin_and_tokens(settings, session, client):
    ok = run(
        settings, ["admin", "create", "--email", "Root@Example.cn", "--password", "a-long-password"]
    )
    assert ok.exit_code == 0, ok.output
    again = run(
        settings, ["admin", "create", "--email", "root@example.cn", "--password", "a-long-password"]
    )
    assert again.exit_code == 1

    admin = run(settings, ["token", "create", "--admin"])
    token = admin.stdout.strip().splitlines()[-1]
    created = client.post(
        "/api/v1/universities",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": "YTU", "name": "烟台大学", "city_code": "3706"},
    )
    assert created.status_code == 201

    university = run(settings, ["token", "create", "--university", "YTU"])
    token = university.stdout.strip().splitlines()[-1]
    course = client.post(
        "/api/v1/courses",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "code": "YTU-01",
            "title": "工业互联网与数据分析",
            "hours": 16,
            "capacity": 30,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-20",
        },
    )
    assert course.status_code == 201


def test_token_for_unknown_university_fails_clearly(settings, session):
    make_university(session, code="QLU")
    result = run(settings, ["token", "create", "--university", "NOPE"])
    assert result.exit_code == 1 and "NOPE" in result.output
    both = run(settings, ["token", "create", "--admin", "--university", "QLU"])
    assert both.exit_code == 2


def test_demo_is_refused_in_production(settings, session):
    from sqlmodel import select

    from app.auth.models import User

    production = settings.model_copy(update={"environment": "production"})
    result = run(production, ["demo", "--trainees", "5"])
    assert result.exit_code == 1 and "production" in result.output
    assert session.exec(select(User)).all() == []


def test_first_production_start_on_an_empty_data_folder(tmp_path):
    """A new volume: no data folder yet, a secret from the environment, no development helpers."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    data_dir = tmp_path / "volume" / "dandelion"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANDELION_")}
    env.update(
        DANDELION_ENVIRONMENT="production",
        DANDELION_DATA_DIR=str(data_dir),
        DANDELION_SECRET_KEY="s" * 48,
        DANDELION_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    root = Path(__file__).resolve().parent.parent
    upgrade = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert (data_dir / "dandelion.db").exists()
    (data_dir / "dandelion.db").unlink()  # serve on its own must cope with the empty folder too
    data_dir.rmdir()
    orphan = data_dir / "certificates" / "26" / "DL26-ORPHAN.pdf"  # left by a killed issue
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes("%PDF-1.7 holder 李䶮".encode())
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        assert status == 200, server.stdout.read().decode() if server.poll() is not None else ""
        assert not (data_dir / "secret_key").exists()  # production never writes a secret
        assert not orphan.exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
