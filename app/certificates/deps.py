"""A certificate by the serial in the path: anyone may look one up; only its university (or an
administrator) may take its PDF through the API, see its staff page, revoke or reissue it."""

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ApiPrincipal, require_user
from app.auth.models import User
from app.certificates import serials, service
from app.certificates.models import Certificate
from app.db import SessionDep
from app.errors import Invalid, NotFound
from app.i18n import N_


def certificate(session: SessionDep, serial: str) -> Certificate:
    try:
        return service.get_by_serial(session, serial)
    except serials.InvalidSerial as exc:
        raise Invalid([("serial", str(exc))], message=str(exc)) from exc


def api_own_certificate(
    principal: ApiPrincipal, cert: Annotated[Certificate, Depends(certificate)]
) -> Certificate:
    # Another university's certificate is answered like a missing one, as courses are.
    if not principal.is_admin and principal.university_id != cert.university_id:
        raise NotFound(N_("No certificate has this serial number"))
    return cert


def staff_own_certificate(
    user: Annotated[User, Depends(require_user)], cert: Annotated[Certificate, Depends(certificate)]
) -> Certificate:
    own = user.role == "staff" and user.university_id == cert.university_id
    if not (user.is_admin or own):
        raise NotFound(N_("No certificate has this serial number"))
    return cert


SerialCertificate = Annotated[Certificate, Depends(certificate)]
ApiOwnCertificate = Annotated[Certificate, Depends(api_own_certificate)]
StaffOwnCertificate = Annotated[Certificate, Depends(staff_own_certificate)]
