"""Every cookie is HttpOnly and SameSite=Lax, and Secure (the CSRF one __Host- prefixed) whenever
the site is served over HTTPS: its public URL says so, or a trusted proxy's X-Forwarded-Proto
(issue 5)."""

import re

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.factories import PASSWORD, csrf_of, make_university, make_user

PROXY = "10.0.0.5"


def _cookies(response) -> dict[str, str]:
    return {v.split("=", 1)[0]: v for k, v in response.headers.multi_items() if k == "set-cookie"}


def _all_cookies_of_a_visit(client, user) -> dict[str, str]:
    """Every cookie the site sets: CSRF, language, session and flash, and their deletions."""
    seen = _cookies(client.get("/login"))
    seen.update(_cookies(client.get("/lang/en", follow_redirects=False)))
    logged_in = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    seen.update(_cookies(logged_in))
    seen.update({f"shown {k}": v for k, v in _cookies(client.get("/staff")).items()})
    logged_out = client.post(
        "/logout", data={"csrf_token": csrf_of(client, "/staff")}, follow_redirects=False
    )
    seen.update({f"out {k}": v for k, v in _cookies(logged_out).items()})
    return seen


def _flags(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


@pytest.fixture
def https_app(app_with):
    return app_with(public_url="https://dandelion.example.cn")


def test_every_cookie_is_httponly_and_lax_on_plain_http(client, session):
    user = make_user(session, university=make_university(session))
    seen = _all_cookies_of_a_visit(client, user)
    names = {k.split()[-1] for k in seen}
    assert {"dandelion_csrf", "dandelion_lang", "dandelion_session", "dandelion_flash"} <= names
    for name, header in seen.items():
        assert {"httponly", "samesite", "path"} <= _flags(header), name
        assert "secure" not in _flags(header), name
        assert "samesite=lax" in header.lower(), name


def test_over_https_every_cookie_is_secure_and_the_csrf_cookie_host_prefixed(https_app, session):
    user = make_user(session, university=make_university(session))
    with TestClient(https_app, base_url="https://dandelion.example.cn") as client:
        seen = _all_cookies_of_a_visit(client, user)
    assert "__Host-dandelion_csrf" in seen and "dandelion_csrf" not in seen
    for name, header in seen.items():
        assert {"httponly", "samesite", "secure"} <= _flags(header), name
    csrf = seen["__Host-dandelion_csrf"]
    assert "path=/;" in csrf.lower() + ";" and "domain" not in _flags(csrf)


def test_over_https_a_planted_cookie_without_the_prefix_is_ignored(https_app, session):
    user = make_user(session, university=make_university(session))
    with TestClient(https_app, base_url="https://dandelion.example.cn") as client:
        token = csrf_of(client)
        real = client.cookies.get("__Host-dandelion_csrf")
        client.cookies.clear()
        client.cookies.set("dandelion_csrf", real)  # what a sibling subdomain could set
        response = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
    assert response.status_code == 403


def test_a_trusted_proxys_https_makes_cookies_secure(web_app, session):
    # `dandelion serve` runs uvicorn with proxy_headers and DANDELION_FORWARDED_ALLOW_IPS.
    user = make_user(session, university=make_university(session))
    behind = ProxyHeadersMiddleware(web_app, trusted_hosts=PROXY)
    https = {"X-Forwarded-Proto": "https"}
    with TestClient(behind, base_url="http://testserver", client=(PROXY, 4000)) as proxy:
        page = proxy.get("/login", headers=https)
        csrf = _cookies(page)["__Host-dandelion_csrf"]
        assert "secure" in _flags(csrf)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        secret = csrf.split(";")[0].split("=", 1)[1]
        # The test client keeps Secure cookies for https addresses: send it as the browser would.
        response = proxy.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "/staff"},
            headers={**https, "Cookie": f"__Host-dandelion_csrf={secret}"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert all("secure" in _flags(h) for h in _cookies(response).values())
        assert response.headers["location"] == "/staff"
        assert "max-age" in response.headers.get("strict-transport-security", "")


def test_an_untrusted_address_cannot_claim_https(web_app):
    behind = ProxyHeadersMiddleware(web_app, trusted_hosts=PROXY)
    with TestClient(behind, base_url="http://testserver", client=("203.0.113.9", 4000)) as c:
        page = c.get("/login", headers={"X-Forwarded-Proto": "https"})
    csrf = _cookies(page)["dandelion_csrf"]
    assert "secure" not in _flags(csrf) and "strict-transport-security" not in page.headers
