"""The `dandelion` command against the test database, its tokens used over HTTP."""

from typer.testing import CliRunner

from app.cli import app as cli
from tests.factories import make_university

runner = CliRunner()


def test_admin_and_tokens(settings, session, client):
    ok = runner.invoke(cli, ["admin", "create", "--email", "Root@Example.cn",
                             "--password", "a-long-password"])
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(cli, ["admin", "create", "--email", "root@example.cn",
                                "--password", "a-long-password"])
    assert again.exit_code == 1

    admin = runner.invoke(cli, ["token", "create", "--admin"])
    token = admin.stdout.strip().splitlines()[-1]
    created = client.post("/api/v1/universities", headers={"Authorization": f"Bearer {token}"},
                          json={"code": "YTU", "name": "烟台大学", "city_code": "3706"})
    assert created.status_code == 201

    university = runner.invoke(cli, ["token", "create", "--university", "YTU"])
    token = university.stdout.strip().splitlines()[-1]
    course = client.post("/api/v1/courses", headers={"Authorization": f"Bearer {token}"},
                         json={"code": "YTU-01", "title": "工业互联网与数据分析", "hours": 16,
                               "capacity": 30, "starts_on": "2026-12-01", "ends_on": "2026-12-20"})
    assert course.status_code == 201


def test_token_for_unknown_university_fails_clearly(settings, session):
    make_university(session, code="QLU")
    result = runner.invoke(cli, ["token", "create", "--university", "NOPE"])
    assert result.exit_code == 1 and "NOPE" in result.output
    both = runner.invoke(cli, ["token", "create", "--admin", "--university", "QLU"])
    assert both.exit_code == 2
