"""GET /api/v1/courses documents its filters, its page and its total in /openapi.json."""


def test_the_catalog_api_documents_filters_pages_and_total(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/courses"]["get"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert {"q", "city", "university", "mode", "cluster", "seats", "page", "per_page"} <= parameters
    assert {"starts_from", "starts_to"} <= parameters
    ok = operation["responses"]["200"]
    assert set(ok["headers"]) == {"X-Total-Count", "Link"}
    assert ok["content"]["application/json"]["schema"]["type"] == "array"
    assert "422" in operation["responses"]
