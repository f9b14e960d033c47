"""The JSON API: twins of the pages, documented at /docs."""

from fastapi import APIRouter

from app.certificates.router import api as certificates
from app.completions.router import api as completions
from app.courses.router import api as courses
from app.enrollments.router import api as enrollments
from app.goals.router import api as goals
from app.universities.router import api as universities

router = APIRouter()
for part in (universities, courses, enrollments, completions, certificates, goals):
    router.include_router(part)
