"""The plan's three goals, counted as DESIGN.md defines: distinct entities, never rows."""

from dataclasses import dataclass

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from app.companies.models import Company
from app.completions.models import Completion
from app.config import Settings
from app.enrollments.models import Enrollment
from app.universities.models import University


@dataclass
class Goal:
    key: str
    count: int
    target: int | None

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.count / self.target) if self.target else 0.0


def count_all(session: Session, settings: Settings) -> dict[str, Goal]:
    def distinct_count(column) -> int:
        return session.exec(select(func.count(distinct(column)))).one()

    enrolled = session.exec(select(func.count(distinct(Enrollment.trainee_id)))
                            .where(Enrollment.status == "enrolled")).one()
    return {
        "universities": Goal("universities", distinct_count(Completion.university_id),
                             settings.goal_universities),
        "companies": Goal("companies", distinct_count(Completion.company_id), settings.goal_companies),
        "talents": Goal("talents", distinct_count(Completion.trainee_id), settings.goal_talents),
        "enrolled": Goal("enrolled", enrolled, None),
        "universities_joined": Goal("universities_joined",
                                    session.exec(select(func.count(University.id))).one(), None),
        "companies_joined": Goal("companies_joined",
                                 session.exec(select(func.count(Company.id))).one(), None),
    }
