from fastapi import APIRouter, Depends, Request

from app.auth.deps import AdminUser, ApiAdmin, load_user
from app.companies import service
from app.companies.deps import AdminCompany, ApiAdminCompany
from app.companies.models import CLUSTER_NAMES, Company, CompanyPublic, CompanyUpdate
from app.db import SessionDep
from app.i18n import N_
from app.web import FormDep, render, submit

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
