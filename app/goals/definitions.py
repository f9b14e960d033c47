"""Every figure the pages show about the goals: one name and one line saying what it counts.

This is the only place they are written. Pages show them through templates/goals/_figures.html
(the global `goal_figures`), so the home page, the administration and the universities'
pages call the same number by the same name and mean the same thing by it.
"""

from dataclasses import dataclass

from app.i18n import N_


@dataclass(frozen=True)
class Figure:
    key: str  # as service.count_all names it
    name: str  # message ids, translated when rendered
    definition: str


FIGURES = {
    f.key: f
    for f in (
        Figure(
            "universities",
            N_("Universities united"),
            N_("Universities with at least one completion"),
        ),
        Figure(
            "companies",
            N_("Companies empowered"),
            N_("Confirmed partner companies with at least one employee who completed a course"),
        ),
        Figure(
            "talents",
            N_("Digital talents cultivated"),
            N_("Trainees with at least one completion, each counted once"),
        ),
        Figure(
            "enrolled",
            N_("Trainees enrolled"),
            N_("Trainees with at least one enrollment not withdrawn, each counted once"),
        ),
        Figure(
            "universities_joined",
            N_("Universities joined"),
            N_("Universities with at least one course"),
        ),
        Figure(
            "companies_joined",
            N_("Companies joined"),
            N_("Confirmed companies (with their credit code) named as an employer"),
        ),
        Figure(
            "courses",
            N_("Courses"),
            N_("Training courses published by the university"),
        ),
        Figure(
            "completions",
            N_("Completions"),
            N_("Completion records of the university's courses; a trainee's two count as two"),
        ),
        Figure(
            "certified",
            N_("Certificates issued"),
            N_("The university's certificates that are valid: not revoked or replaced"),
        ),
        Figure(
            "companies_reached",
            N_("Companies reached"),
            N_("Confirmed partner companies with an employee who completed a course here"),
        ),
    )
}
GOALS = ("universities", "companies", "talents")
