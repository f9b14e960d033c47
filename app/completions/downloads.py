"""The files staff download to fill in: the upload templates and a course's enrollment list."""

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.auth.deps import StaffUser, load_user
from app.completions import enrollment_list, report, templates
from app.courses import service as courses
from app.courses.deps import OwnCourse
from app.db import SessionDep, id_of
from app.errors import NotFound
from app.exports.files import CSV_TYPE, attachment, download
from app.i18n import N_, gettext
from app.universities.deps import StaffUniversity

router = APIRouter(dependencies=[Depends(load_user)])


@router.get("/staff/uploads/template/{kind}.{fmt}", name="completions:template")
def template(session: SessionDep, university: StaffUniversity, kind: str, fmt: str):
    """The completions or roster template, as XLSX (with the university's course codes to
    pick from) or CSV."""
    chosen = templates.TEMPLATES.get(kind)
    if chosen is None or fmt not in ("xlsx", "csv"):
        raise NotFound(N_("No template has this name"))
    if fmt == "xlsx":
        codes = [c.code for c in courses.list_for_university(session, id_of(university))]
        content = templates.template_xlsx(chosen, codes, translate=gettext)
        media_type = report.XLSX_TYPE
    else:
        content, media_type = templates.template_csv(chosen, translate=gettext), CSV_TYPE
    disposition = attachment(f"{gettext(chosen.filename)}.{fmt}", f"{chosen.ascii_name}.{fmt}")
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/staff/courses/{code}/enrollments.xlsx", name="completions:enrollment_list")
def enrollments_xlsx(session: SessionDep, user: StaffUser, course: OwnCourse):
    content = enrollment_list.workbook(session, course, actor=user.actor, translate=gettext)
    session.commit()  # the audit record of who took the full ID numbers
    name = gettext(N_("%(code)s enrollment list"), code=course.code)
    return download(content, report.XLSX_TYPE, f"{name}.xlsx", f"{course.code}-enrollments.xlsx")
