"""Separate duties (三员), tried as an attacker would: every route of the app, every method,
as the security administrator and as the auditor, with a valid CSRF token. What needs a login
answers them 403 unless it is their own page or their own account; the API gives their
browser nothing; the audit log is the auditor's alone; and nothing changed in the database."""

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func
from sqlmodel import select
from starlette.convertors import IntegerConvertor

from app.audit.models import AuditEvent
from app.auth.models import User
from app.courses.models import Course
from app.universities.models import University
from tests.factories import make_course

OWN = {"security": ("/security",), "auditor": ("/audit",)}
EVERYONES = ("/account", "/login", "/logout")
REFUSED = "此页面不属于您的职责范围"


def _sample(name: str, convertor) -> str:
    if isinstance(convertor, IntegerConvertor):
        return "1"
    return {"kind": "completions", "fmt": "xlsx", "code": "C1"}.get(name, "x1")


def _requests(application):
    """(route, method, path) for every route the app serves, path parameters filled in."""
    for route in iter_route_contexts(application.routes):  # included routers' routes too
        if not isinstance(route.original_route, APIRoute):
            continue
        params = {n: _sample(n, c) for n, c in route.param_convertors.items()}
        path = route.path_format.format(**params)
        for method in sorted(route.methods - {"HEAD"}):
            yield route, method, path


def _send(persona, method: str, path: str, token: str):
    data = {"csrf_token": token} if method != "GET" else None
    return persona.request(method, path, data=data, follow_redirects=False)


def _needs_login(response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code == 401 or (
        response.status_code in (302, 303) and location.startswith("/login")
    )


def _counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (User, University, Course)
    }


def _under(path: str, prefixes) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


@pytest.mark.parametrize("role", ["security", "auditor"])
def test_each_duty_reaches_its_own_pages_and_nothing_else(
    role, request, web_app, anonymous, session, university_a
):
    persona = request.getfixturevalue("security_admin" if role == "security" else "auditor")
    make_course(session, university_a, code="C1")
    token, anonymous_token = persona.csrf("/account"), anonymous.csrf("/login")
    before = _counts(session)
    reached, refused = [], []
    for route, method, path in _requests(web_app):
        if route.name == "auth:logout":
            continue  # would end the persona's session; its own, and tried last
        as_anonymous = _send(anonymous, method, path, anonymous_token)
        answer = _send(persona, method, path, token)
        assert answer.status_code < 500, (method, path, answer.status_code)
        if path.startswith("/api/"):
            # A browser's cookies are no API credential: the API answers as to anyone.
            assert answer.status_code == as_anonymous.status_code, (method, path)
            continue
        if not _needs_login(as_anonymous):
            continue  # a public page: it answers these roles as it answers anyone
        if _under(route.path, EVERYONES + OWN[role]):
            reached.append(route.name)
            assert answer.status_code != 403 or route.name == "audit:list", (method, path)
        else:
            refused.append(route.name)
            assert answer.status_code == 403, (method, path, answer.status_code)
    assert _counts(session) == before  # nothing was created, changed or removed
    # The pages an attacker would try first are among the refused.
    for name in ("admin:home", "auth:accounts", "auth:reset_password", "jobs:list", "auth:tokens"):
        assert name in refused
    assert "auth:account" in reached and "auth:change_password" in reached
    assert ("audit:list" in reached) == (role == "auditor")
    # The CSRF token was a valid one: what was refused was refused for the duty.
    wrong = persona.post("/account/password", data={"csrf_token": token})
    assert wrong.status_code in (400, 422)
    assert REFUSED in persona.get("/admin").text
    logout = persona.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert logout.status_code == 303


def test_the_audit_log_is_the_auditors_alone(admin, security_admin, staff_a, auditor):
    assert auditor.get("/audit").status_code == 200
    for persona in (admin, security_admin, staff_a):
        assert persona.get("/audit").status_code == 403
    assert 'href="/audit"' not in admin.get("/admin").text  # no link it cannot open
    assert 'href="/audit"' in auditor.get("/account").text  # the auditor's menu has it


def test_no_route_edits_or_deletes_audit_events(web_app):
    writes = [
        (route.path, method)
        for route, method, _ in _requests(web_app)
        if "audit" in route.path and method != "GET"
    ]
    assert writes == []


def test_a_refused_duty_is_itself_audited(auditor, session):
    auditor.get("/admin")
    auditor.get("/admin")
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "security.refused", AuditEvent.actor == auditor.user.actor
        )
    ).all()
    assert [(e.object_type, e.object_id) for e in events] == [("route", "admin:home")]


def test_the_administrator_cannot_shut_out_the_other_duties(
    admin, auditor, security_admin, session
):
    token = admin.csrf("/admin")
    for other in (auditor, security_admin):
        base = f"/admin/accounts/{other.user.id}"
        password = admin.post(f"{base}/password", data={"csrf_token": token, "password": "x" * 12})
        deactivated = admin.post(f"{base}/deactivate", data={"csrf_token": token})
        assert password.status_code == deactivated.status_code == 403
        assert "命令行" in deactivated.text
    session.expire_all()
    assert session.get(User, auditor.user.id).is_active
    assert auditor.get("/audit").status_code == 200  # the session was not ended either
