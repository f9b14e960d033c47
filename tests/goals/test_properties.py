"""Whatever files are uploaded, in whatever order and however often, the goals equal the
distinct universities, companies and trainees of the completions (DESIGN.md's counting rules)."""

from datetime import timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, true

from app import clock
from app.completions import service as completions
from app.completions.models import Completion, CompletionBatch
from app.goals import service as goals
from app.goals import tally
from tests import files
from tests.factories import make_company, make_course, make_enrollment, make_university

DONE = (clock.today() - timedelta(days=1)).isoformat()


def _world(session):
    """3 universities with a course each, 3 companies, 6 people with 1-2 enrollments each."""
    unis = [make_university(session) for _ in range(3)]
    courses = [make_course(session, u) for u in unis]
    companies = [make_company(session) for _ in range(3)]
    enrolled = []  # (university, course, company, person id, name, id number)
    for person in range(6):
        name = f"学员{'一二三四五六'[person]}"
        _, number = make_enrollment(
            session, courses[person % 3], name=name, company=companies[person % 3]
        )
        enrolled.append(
            (unis[person % 3], courses[person % 3], companies[person % 3], person, name, number)
        )
        if person % 2 == 0:
            other = (person + 1) % 3
            make_enrollment(
                session,
                courses[other],
                name=name,
                id_number=number,
                company=companies[(person + 2) % 3],
            )
            enrolled.append(
                (unis[other], courses[other], companies[(person + 2) % 3], person, name, number)
            )
    return enrolled


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.integers(0, 8), max_size=6), min_size=1, max_size=4))
def test_goals_count_distinct_entities_whatever_is_uploaded(session, settings, uploads):
    # One world per test (hypothesis runs the body many times on the same session).
    if "world" not in session.info:
        session.info["world"] = _world(session)
    world = session.info["world"]
    # Cleared as the app clears completions (an undo), so that the counters follow.
    tally.completions_removed(session, true())
    session.execute(delete(Completion))
    session.execute(delete(CompletionBatch))
    session.commit()
    done = set()
    for picks in uploads:
        for university in {world[i][0].id: world[i][0] for i in picks}.values():
            rows = [
                [w[4], w[5], w[1].code, DONE, ""]
                for w in (world[i] for i in picks)
                if w[0].id == university.id
            ]
            completions.import_file(
                session,
                completions.Upload(
                    university=university, filename="a.csv", data=files.utf8_bom_csv(rows)
                ),
                data_dir=settings.data_dir,
                today=clock.today(),
            )
            session.commit()
        done |= set(picks)
    counts = goals.count_all(session, settings)
    assert counts["universities"].count == len({world[i][0].id for i in done})
    assert counts["companies"].count == len({world[i][2].id for i in done})
    assert counts["talents"].count == len({world[i][3] for i in done})
    assert goals.verify(session, settings) == []
    assert tally.differences(session) == []
