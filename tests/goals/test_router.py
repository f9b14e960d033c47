from tests.factories import make_course, make_enrollment, make_university


def test_home_shows_goals_in_chinese_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "培养数字人才" in page.text
    assert "0 / 5000" in page.text


def test_home_in_english_by_accept_language(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Digital talents cultivated" in page.text


def test_language_switch_sets_cookie(client):
    response = client.get(
        "/lang/en", headers={"referer": "http://testserver/courses"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/courses"
    assert "Courses open for enrollment" in client.get("/courses").text


def test_goals_api_counts_enrolled(client, session):
    course = make_course(session, make_university(session))
    make_enrollment(session, course)
    body = client.get("/api/v1/goals").json()
    # The first shape, kept for existing clients: the pace and the period were added beside it.
    kept = {key: body[key] for key in ("universities", "companies", "talents", "enrolled")}
    for figure in kept.values():
        figure.pop("pace", None)
    assert kept == {
        "universities": {"count": 0, "target": 50},
        "companies": {"count": 0, "target": 500},
        "talents": {"count": 0, "target": 5000},
        "enrolled": {"count": 1},
    }
