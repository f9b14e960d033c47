"""ApiToken.last_used_at: written when a token authenticates, at most once a minute (issue 6)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.auth import service as auth
from app.auth.models import ApiToken
from app.db import utcnow
from tests.factories import make_university


@pytest.fixture
def token(session):
    university = make_university(session)
    token, secret = auth.create_token(
        session, name="import script", role="university", university_id=university.id
    )
    session.commit()
    return token.id, {"Authorization": f"Bearer {secret}"}


@contextmanager
def token_writes(web_app):
    """The UPDATEs of api_token the app sends to the database meanwhile."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            seen.append(statement)

    event.listen(web_app.state.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(web_app.state.engine, "before_cursor_execute", count)


def _last_used(new_session, token_id: int):
    with new_session() as s:
        return s.get(ApiToken, token_id).last_used_at


def _call(client, headers):
    # Refused (no such course): the request's own transaction rolls back, nothing commits it.
    response = client.post("/api/v1/courses/NO-SUCH-COURSE/certificates", headers=headers)
    assert response.status_code == 404
    return response


def test_a_call_records_when_the_token_was_used(client, new_session, token):
    token_id, headers = token
    assert _last_used(new_session, token_id) is None
    before = utcnow()

    _call(client, headers)

    used = _last_used(new_session, token_id)
    assert used is not None and before <= used <= utcnow()


def test_calls_within_a_minute_write_once(client, web_app, token):
    _, headers = token
    with token_writes(web_app) as writes:
        for _ in range(5):
            _call(client, headers)
    assert len(writes) == 1


def test_a_call_a_minute_later_writes_again(client, web_app, session, new_session, token):
    token_id, headers = token
    row = session.get(ApiToken, token_id)
    recent, old = utcnow() - timedelta(seconds=50), utcnow() - timedelta(seconds=70)
    row.last_used_at = recent
    session.commit()
    with token_writes(web_app) as writes:
        _call(client, headers)
    assert _last_used(new_session, token_id) == recent and writes == []

    row.last_used_at = old
    session.commit()
    with token_writes(web_app) as writes:
        _call(client, headers)
    assert _last_used(new_session, token_id) > old + timedelta(seconds=60) and len(writes) == 1


def test_a_revoked_token_records_nothing(client, web_app, session, new_session, token):
    token_id, headers = token
    row = session.get(ApiToken, token_id)
    row.revoked_at = utcnow()
    session.commit()
    with token_writes(web_app) as writes:
        refused = client.post("/api/v1/courses/X/certificates", headers=headers)
    assert refused.status_code == 401
    assert _last_used(new_session, token_id) is None and writes == []
