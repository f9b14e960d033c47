"""The alliance's administration page: the goals, universities, accounts and the forms that
change them. The forms post to their own domains, which show this page again on an error."""

from fastapi import APIRouter, Depends, Request

from app.auth import service as auth
from app.auth.deps import AdminUser, load_user
from app.db import SessionDep
from app.goals import service as goals
from app.universities import service as universities
from app.web import render

router = APIRouter(dependencies=[Depends(load_user)])
FORMS = ("university_form", "staff_form", "name_form")


def dashboard(request: Request, session, *, status_code: int = 200, **forms):
    """The page, with one form's values and errors (say staff_form={"values", "errors"})."""
    cities = universities.cities(session)
    context = {
        "universities": universities.list_all(session),
        "cities": cities,
        "city_by_code": {c.code: c for c in cities},
        "accounts": auth.list_accounts(session),
        "goals": goals.count_all(session, request.app.state.settings),
        **{name: {"values": {}, "errors": {}} for name in FORMS},
        **forms,
    }
    return render(request, "admin/home.html", context, status_code=status_code)


def shown_again(request: Request, session, form_name: str):
    """For web.submit: the page again, with this form's values and errors."""
    return lambda values, errors: dashboard(
        request, session, status_code=422, **{form_name: {"values": values, "errors": errors}}
    )


@router.get("/admin", name="admin:home")
def home(request: Request, session: SessionDep, user: AdminUser):
    return dashboard(request, session)
