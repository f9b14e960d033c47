"""Separate duties (等保 2.0's 三员): the security administrator and the auditor reach their own
pages, their own account and nothing else that needs a login.

One check for every page, as a dependency of every page router (app/main.py), rather than a
test in each route: the routes that only ask for a login (jobs, tokens, exports, a
certificate's staff page) scope what they show by university, and an account of no
university must not fall through to "everything". Public pages stay public: a page anyone
may open (the catalog, the verification page) answers these roles as it answers anyone.
The system administrator's pages refuse them already (require_admin), and the audit page
refuses the administrator (require_auditor): who changes accounts never reads or touches
their traces.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.auth.deps import load_user, require_user
from app.auth.models import AUDITOR, SECURITY, User
from app.errors import Forbidden
from app.i18n import N_

# Path prefixes each duty may reach beyond the public pages.
OWN_PAGES = {SECURITY: ("/security",), AUDITOR: ("/audit",)}
EVERYONES = ("/account", "/login", "/logout")  # one's own account, second factor, sessions


def within_duties(request: Request, user: Annotated[User | None, Depends(load_user)]) -> None:
    if user is None or user.role not in OWN_PAGES:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not needs_login(route):
        return
    if any(_under(route.path, prefix) for prefix in EVERYONES + OWN_PAGES[user.role]):
        return
    raise Forbidden(N_("This page is not part of your duties"))


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def needs_login(route: APIRoute) -> bool:
    """Whether some dependency of the route asks for a logged-in user (a walk of a few dozen
    nodes: cheaper than the request's own look-ups)."""
    return _asks_login(route.dependant)


def _asks_login(dependant: Dependant) -> bool:
    return any(d.call is require_user or _asks_login(d) for d in dependant.dependencies)
