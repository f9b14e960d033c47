"""An administrator sees one university's staff pages as its staff see them, read-only.

Why a cookie beside the login rather than addresses of their own (/admin/universities/A/...):
the staff pages, their links and their scoping then stay exactly the ones staff use, so the
administrator sees what staff see, and no route has a second copy that could drift from the
first or forget a check. The cookie names the university with a keyed hash of it and of the
login's session token: it cannot be made up or carried to another login, and it ends with
this one (logging out, a password reset or a deactivation). It is set by a POST with CSRF
(audited: university.view) and cleared by another; no process keeps any state.

While it is set, auth.deps.load_user hands every route a stand-in for the administrator: a
member of that university's staff, never saved, so every scoping dependency answers as for
that university's staff (another university's pages are missing, the administration is
closed). And before any route runs, every request but a GET or HEAD is refused, except
ending the view and logging out: whatever a page shows, nothing is written in the
university's name. Downloads with full ID numbers are audited as the view's (view_download).
"""

import hashlib
import hmac

from fastapi import Request
from sqlmodel import Session

from app.audit import service as audit
from app.auth.models import User
from app.errors import Forbidden
from app.i18n import N_
from app.universities.models import University

COOKIE = "dandelion_viewing"
READ_ONLY = N_(
    "You are viewing %(university)s read-only: nothing can be changed. "
    "End the read-only view to act as an administrator."
)
# Route names a viewer may still post to.
STILL_ALLOWED = frozenset({"universities:end_view", "auth:logout"})
# Pages that hand out full ID numbers: the course's enrollment list, an upload's rejected
# rows, an export's file (audited whether or not it holds them: the route cannot tell yet).
FULL_ID_NUMBERS = frozenset({"completions:enrollment_list", "completions:errors", "exports:file"})


def cookie_value(request: Request, session_token: str, university: University) -> str:
    return f"{university.id}.{_mac(request, session_token, university.id or 0)}"


def _mac(request: Request, session_token: str, university_id: int) -> str:
    key = request.app.state.keys.link_key
    bound = f"read-only-view:{session_token}:{university_id}"
    return hmac.new(key, bound.encode(), hashlib.sha256).hexdigest()


def viewed(request: Request, session: Session, session_token: str) -> University | None:
    """The university this login is viewing, if its cookie is this login's."""
    number, _, mac = request.cookies.get(COOKIE, "").partition(".")
    if not number.isdigit() or len(number) > 10:
        return None
    expected = _mac(request, session_token, int(number))
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        return None
    return session.get(University, int(number))


def as_viewer(request: Request, session: Session, admin: User, session_token: str) -> User:
    """The administrator, or while they view a university its stand-in staff member; refuses
    what the view does not allow."""
    university = viewed(request, session, session_token)
    if university is None:
        return admin
    request.state.viewing = university
    request.state.viewer = admin
    route = getattr(request.scope.get("route"), "name", None)
    if request.method not in ("GET", "HEAD") and route not in STILL_ALLOWED:
        raise Forbidden(READ_ONLY, params={"university": university.name})
    if route in FULL_ID_NUMBERS:
        # Committed now: a download does not commit, and the record must outlive it.
        audit.record(
            session,
            admin.actor,
            "university.view_download",
            "university",
            university.id,
            page=route,
            path=request.url.path,
            id_numbers="full",
        )
        session.commit()
    return User(
        id=admin.id,
        email=admin.email,
        password_hash="",
        role="staff",
        university_id=university.id,
    )


def viewing(request: Request) -> University | None:
    """The university the request's administrator is viewing read-only, if any."""
    return getattr(request.state, "viewing", None)


def viewer(request: Request) -> User | None:
    """The administrator behind the stand-in, while viewing."""
    return getattr(request.state, "viewer", None)
