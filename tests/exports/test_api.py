"""POST /api/v1/exports: 202 with the job's addresses, the file once it is finished; JSON
field errors for bad input; a university's token sees its own exports only."""

import pytest

from app.auth import service as auth
from app.jobs import service as jobs
from tests.exports.conftest import END, HOSTILE, START, csv_rows, filenames, table, workbook


@pytest.fixture
def tokens(session, university_a, university_b):
    made = {}
    for name, role, university in (
        ("admin", "admin", None),
        ("a", "university", university_a),
        ("b", "university", university_b),
    ):
        _, secret = auth.create_token(
            session, name=name, role=role, university_id=university.id if university else None
        )
        made[name] = {"Authorization": f"Bearer {secret}"}
    session.commit()
    return made


def _post(client, headers, **body):
    return client.post("/api/v1/exports", headers=headers, json=body)


def test_an_export_is_a_job_whose_file_the_api_gives(client, tokens, data):
    answer = _post(
        client,
        tokens["a"],
        kind="completions",
        format="csv",
        date_from=str(START),
        date_to=str(END),
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert answer.headers["location"] == body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    assert body["rows"] == len(HOSTILE) + 1 and body["url"] == f"/jobs/{body['job_id']}"
    status = client.get(body["status_url"], headers=tokens["a"]).json()
    assert status["state"] == "done" and status["kind"] == "exports.completions"
    response = client.get(body["file_url"], headers=tokens["a"])
    assert response.status_code == 200
    rows = csv_rows(response)
    assert len(rows) == 1 + len(HOSTILE) + 1
    assert rows[1][5] == "'" + HOSTILE[0]
    assert filenames(response)[1].startswith("U") and filenames(response)[1].endswith(".csv")
    for path in (body["status_url"], body["file_url"]):
        assert client.get(path, headers=tokens["b"]).status_code == 404
        assert client.get(path).status_code == 401


def test_an_administrators_token_exports_the_alliances_summary(client, tokens, data):
    body = _post(
        client, tokens["admin"], kind="goals", date_from=str(START), date_to=str(END)
    ).json()
    response = client.get(body["file_url"], headers=tokens["admin"])
    book = workbook(response)
    assert table(book["按地市"])[-1][2:] == [2, len(HOSTILE) + 1, len(HOSTILE) + 1]
    assert client.get(body["file_url"], headers=tokens["a"]).status_code == 404


def test_bad_input_is_json_field_errors(client, tokens, data):
    cases = [
        ({"kind": "completions", "date_from": str(END), "date_to": str(START)}, "date_to"),
        ({"kind": "completions", "date_from": "2026-13-01", "date_to": str(END)}, "date_from"),
        ({"kind": "completions", "date_to": str(END)}, "date_from"),
        ({"kind": "everything", "date_from": str(START), "date_to": str(END)}, "kind"),
        (
            {"kind": "goals", "format": "pdf", "date_from": str(START), "date_to": str(END)},
            "format",
        ),
        ({"kind": "enrollments"}, "course_code"),
        ({"kind": "enrollments", "course_code": "QDU-EXP-01"}, "course_code"),  # B's course
        ({"kind": "completions", "date_from": "2001-01-01", "date_to": "2001-02-01"}, "date_from"),
    ]
    for body, field in cases:
        answer = _post(client, tokens["a"], **body)
        assert answer.status_code == 422, body
        errors = answer.json()["errors"]
        assert [e["field"] for e in errors] == [field], (body, errors)
        assert all(e["message"] for e in errors)
    empty = _post(
        client, tokens["a"], kind="completions", date_from="2001-01-01", date_to="2001-02-01"
    )
    assert "2001-01-01" in empty.json()["errors"][0]["message"]


def test_a_file_not_yet_made_is_a_409(client, session, tokens, data):
    job = jobs.start(
        session,
        kind="exports.goals",
        university_id=data["course"].university_id,
        actor="test",
        item_keys=["file"],
        params={"export": "goals", "format": "xlsx"},
    )
    session.commit()
    answer = client.get(f"/api/v1/exports/{job.id}/file", headers=tokens["a"])
    assert answer.status_code == 409 and answer.json()["detail"] == "导出尚未完成"


def test_the_api_docs_name_the_errors_of_exports(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/exports"]["post"]["responses"]) >= {"202", "401", "403", "422"}
    assert set(paths["/api/v1/exports/{job_id}/file"]["get"]["responses"]) >= {"404", "409"}
