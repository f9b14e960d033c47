"""The audit page: who did what and when, for the auditor alone (三员: the administrators whose
work it records cannot read it)."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from app.audit import service
from app.auth import service as auth
from app.auth.deps import AuditorUser, load_user
from app.db import SessionDep
from app.i18n import N_, gettext
from app.universities import service as universities
from app.web import form_values, render, validate_form

router = APIRouter(dependencies=[Depends(load_user)])
FIELDS = ["user_id", "university_id", "action", "date_from", "date_to", "page"]
# Offered as suggestions; a kind ("user") matches all its actions.
KNOWN_ACTIONS = (
    "user",
    "user.login",
    "user.create",
    "user.password_change",
    "user.password_reset",
    "user.deactivate",
    "user.reactivate",
    "security",
    "audit",
    "token",
    "university",
    "course",
    "enrollment",
    "completion",
    "roster",
    "certificate",
    "company",
    "trainee",
)


@router.get("/audit", name="audit:list")
def audit_page(request: Request, session: SessionDep, user: AuditorUser):
    params = request.query_params
    query, errors = validate_form(service.AuditQuery, params, FIELDS)  # type: ignore[arg-type]
    if query and query.date_from and query.date_to and query.date_to < query.date_from:
        query, errors = None, {"date_to": gettext(N_("The end date is before the start date"))}
    events, more = service.search(session, query) if query else ([], False)
    values = form_values(params, FIELDS)  # type: ignore[arg-type]
    filters = {k: v for k, v in values.items() if v and k != "page"}
    page = query.page if query else 1
    context = {
        "events": [(e, service.shown_detail(e)) for e in events],
        "names": service.actor_names(session, events),
        "account_options": [(a.id, a.email) for a, _ in auth.list_accounts(session)],
        "university_options": [(u.id, u.name) for u in universities.list_all(session)],
        "actions": KNOWN_ACTIONS,
        "values": values,
        "errors": errors,
        "page": page,
        "newer": urlencode({**filters, "page": page - 1}) if page > 1 else None,
        "older": urlencode({**filters, "page": page + 1}) if more else None,
    }
    return render(request, "audit/list.html", context, status_code=400 if errors else 200)
