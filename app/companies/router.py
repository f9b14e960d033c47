from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from app.auth.deps import AdminUser, ApiAdmin, ApiPrincipal, load_user, require_user
from app.auth.models import User
from app.cities.models import City
from app.companies import matching, service
from app.companies.deps import AdminCompany, ApiAdminCompany, ApiMatchScope, MatchScope
from app.companies.models import (
    CLUSTER_NAMES,
    Company,
    CompanyMatch,
    CompanyPublic,
    CompanyUpdate,
)
from app.db import SessionDep
from app.errors import Invalid
from app.fields import RowId
from app.i18n import N_
from app.web import FormDep, render, submit

SignedIn = Annotated[User, Depends(require_user)]

router = APIRouter(dependencies=[Depends(load_user)])
api = APIRouter(tags=["companies"])


def _page(request: Request, session, *, status_code: int = 200, failed: dict | None = None):
    """The list; failed is the one company form shown again: {"uscc", "values", "errors"}."""
    return render(
        request,
        "companies/admin.html",
        {
            "companies": service.list_all(session),
            "clusters": CLUSTER_NAMES,
            "failed": failed or {"uscc": None, "values": {}, "errors": {}},
        },
        status_code=status_code,
    )


@router.get("/admin/companies", name="companies:admin")
def admin_list(request: Request, session: SessionDep, user: AdminUser):
    return _page(request, session)


@router.post("/admin/companies/{uscc}/cluster", name="companies:set_cluster")
def set_cluster(
    request: Request, session: SessionDep, user: AdminUser, company: AdminCompany, form: FormDep
):
    uscc = company.uscc
    return submit(
        request,
        session,
        form,
        CompanyUpdate,
        lambda data: service.set_cluster(
            session, company=company, cluster=data.cluster, actor=user.actor
        ),
        again=lambda values, errors: _page(
            request,
            session,
            status_code=422,
            failed={"uscc": uscc, "values": values, "errors": errors},
        ),
        done=lambda saved: f"{request.url_for('companies:admin').path}#c-{saved.uscc}",
        flash=N_("Industry cluster saved"),
    )


@api.patch("/companies/{uscc}", response_model=CompanyPublic)
def update_company_api(
    session: SessionDep, principal: ApiAdmin, company: ApiAdminCompany, data: CompanyUpdate
) -> Company:
    if "cluster" in data.model_fields_set:  # a PATCH leaves what its body leaves out
        service.set_cluster(session, company=company, cluster=data.cluster, actor=principal.actor)
    session.commit()
    return company


class CompanyFound(BaseModel):
    id: int
    uscc: str
    name: str
    city_code: str | None
    city_name: str | None
    city_name_en: str | None


class CompaniesFound(BaseModel):
    companies: list[CompanyFound]


def _found(rows: list[tuple[Company, City | None]]) -> CompaniesFound:
    return CompaniesFound(
        companies=[
            CompanyFound(
                id=c.id or 0,
                uscc=c.uscc or "",
                name=c.name,
                city_code=c.city_code,
                city_name=city.name if city else None,
                city_name_en=city.name_en if city else None,
            )
            for c, city in rows
        ]
    )


@api.get("/companies/search", response_model=CompaniesFound, name="companies:search_api")
def search_api(session: SessionDep, q: str = "") -> CompaniesFound:
    """The companies the public enrollment form lists whose name holds q (at least 2
    characters, at most 100; % and _ are plain characters), at most 10, each with its city.
    Listed: confirmed companies a university or an administrator vouched for (a completion
    recorded, or a match), never a name a stranger typed. Enroll with the one chosen by
    giving its uscc as company_uscc."""
    return _found(service.search(session, q))


class UnconfirmedPublic(BaseModel):
    id: int
    name: str
    enrollments: int
    completions: int


class MatchedPublic(BaseModel):
    company_id: int
    company: CompanyPublic
    enrollments: int
    completions: int


@api.get("/companies/unconfirmed", response_model=list[UnconfirmedPublic])
def unconfirmed_api(session: SessionDep, scope: ApiMatchScope) -> list[UnconfirmedPublic]:
    """The companies entered by name alone, not matched yet: every one for an administrator's
    token, those named in the university's courses for a university's token."""
    return [
        UnconfirmedPublic(
            id=u.company.id or 0,
            name=u.company.name,
            enrollments=u.enrollments,
            completions=u.completions,
        )
        for u in matching.list_unconfirmed(session, scope)
    ]


@api.post("/companies/unconfirmed/{company_id}/match", response_model=MatchedPublic)
def match_api(
    session: SessionDep,
    principal: ApiPrincipal,
    scope: ApiMatchScope,
    company_id: RowId,
    data: CompanyMatch,
) -> MatchedPublic:
    """Match an unconfirmed company: into (a confirmed company's id) moves its enrollments
    and completions there and removes it; uscc does the same when a company has that code,
    else confirms it with the code (its city from the code). Audited."""
    company = matching.get_unconfirmed(session, company_id, scope)
    matched = matching.match(
        session, company=company, into_id=data.into, uscc=data.uscc, actor=principal.actor
    )
    session.commit()
    return MatchedPublic(
        company_id=matched.company.id or 0,
        company=CompanyPublic.model_validate(matched.company),
        enrollments=matched.enrollments,
        completions=matched.completions,
    )


@router.get("/companies/unconfirmed", name="companies:unconfirmed")
def unconfirmed_list(request: Request, session: SessionDep, scope: MatchScope):
    rows = matching.list_unconfirmed(session, scope)
    return render(request, "companies/unconfirmed.html", {"rows": rows})


def _match_page(
    request: Request,
    session,
    company: Company,
    q: str,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
):
    """One unconfirmed company, the confirmed ones found for q, and the form that matches."""
    try:
        found, q_error = matching.candidates(session, q), None
    except Invalid as exc:
        found, q_error = [], exc.field_messages()["q"]
    return render(
        request,
        "companies/match.html",
        {
            "company": company,
            "q": q,
            "q_error": q_error,
            "candidates": found,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/companies/unconfirmed/{company_id}", name="companies:match")
def match_page(
    request: Request, session: SessionDep, scope: MatchScope, company_id: RowId, q: str = ""
):
    company = matching.get_unconfirmed(session, company_id, scope)
    return _match_page(request, session, company, q)


@router.post("/companies/unconfirmed/{company_id}/match", name="companies:match_save")
def match_save(
    request: Request,
    session: SessionDep,
    user: SignedIn,
    scope: MatchScope,
    company_id: RowId,
    form: FormDep,
):
    company = matching.get_unconfirmed(session, company_id, scope)
    q = str(form.get("q") or "")
    return submit(
        request,
        session,
        form,
        CompanyMatch,
        lambda data: matching.match(
            session, company=company, into_id=data.into, uscc=data.uscc, actor=user.actor
        ),
        again=lambda values, errors: _match_page(
            request, session, company, q, values=values, errors=errors, status_code=422
        ),
        done=request.url_for("companies:unconfirmed").path,
        flash=N_("Company matched: its enrollments and completions moved with it"),
    )
