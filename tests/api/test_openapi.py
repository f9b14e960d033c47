"""/openapi.json documents what the API really answers, and only the API (issue 5)."""

import pytest

ERRORS = {"401", "403", "404", "409", "410", "413", "422", "429"}


@pytest.fixture
def schema(client):
    return client.get("/openapi.json").json()


def _resolve(schema, response: dict) -> dict:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _statuses(schema, path: str, method: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"]) & ERRORS


def test_pages_are_left_out_of_the_schema(schema):
    pages = [p for p in schema["paths"] if not p.startswith("/api/v1/")]
    assert pages == []


def test_enrolling_documents_its_errors_with_their_bodies(schema):
    responses = schema["paths"]["/api/v1/enrollments"]["post"]["responses"]
    assert _statuses(schema, "/api/v1/enrollments", "post") == {
        "403",
        "404",
        "409",
        "413",
        "422",
        "429",
    }
    invalid = _resolve(schema, responses["422"])
    item = invalid["properties"]["errors"]["items"]
    item = schema["components"]["schemas"][item["$ref"].rsplit("/", 1)[-1]]
    assert set(item["properties"]) == {"field", "message"} and invalid["required"] == ["errors"]
    for status in ("403", "404", "409", "413", "429"):
        detail = _resolve(schema, responses[status])
        assert detail["properties"]["detail"]["type"] == "string", status
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.mark.parametrize(
    "path, method, statuses",
    [
        ("/api/v1/universities", "post", {"401", "403", "409", "413", "422"}),
        ("/api/v1/courses", "post", {"401", "403", "409", "413", "422"}),
        ("/api/v1/completions", "post", {"401", "403", "409", "413", "422"}),
        ("/api/v1/courses/{code}/certificates", "post", {"401", "403", "404"}),
        ("/api/v1/certificates/{serial}", "get", {"404", "422"}),
        ("/api/v1/certificates/{serial}/pdf", "get", {"401", "403", "404", "410", "422"}),
        (
            "/api/v1/certificates/{serial}/revoke",
            "post",
            {"401", "403", "404", "409", "413", "422"},
        ),
        ("/api/v1/certificates/{serial}/reissue", "post", {"401", "403", "404", "409", "422"}),
        ("/api/v1/certificates/{serial}/name", "post", {"403", "404", "413", "422", "429"}),
        ("/api/v1/courses", "get", {"422"}),  # the filters
        ("/api/v1/goals", "get", set()),
        ("/api/v1/keys", "get", set()),
        ("/api/v1/companies/{uscc}", "patch", {"401", "403", "404", "413", "422"}),
        ("/api/v1/completions/batches/{batch_id}", "get", {"401", "403", "404", "422"}),
    ],
)
def test_each_operation_documents_the_errors_it_can_give(schema, path, method, statuses):
    assert _statuses(schema, path, method) == statuses


def test_the_documented_errors_are_the_real_shapes(client):
    wrong = client.post("/api/v1/universities", headers={"Authorization": "Bearer nope"}, json={})
    assert wrong.status_code == 401 and set(wrong.json()) == {"detail"}
    assert wrong.headers["www-authenticate"] == "Bearer"
    invalid = client.post("/api/v1/enrollments", json={})
    assert invalid.status_code == 422 and set(invalid.json()["errors"][0]) == {"field", "message"}


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/api/v1/enrollments", {"POST"}),
        ("PUT", "/api/v1/courses", {"GET", "POST"}),
        ("PUT", "/login", {"GET", "POST"}),
        ("GET", "/logout", {"POST"}),
        ("POST", "/static/style.css", {"GET", "HEAD"}),
    ],
)
def test_a_wrong_method_gets_405_with_allow(client, method, path, allowed):
    response = client.request(method, path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    if path.startswith("/api/"):
        assert response.json()["detail"]
