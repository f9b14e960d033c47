"""db.optimize keeps the planner's statistics current from the app itself."""

from sqlalchemy import text

from app.db import UPLOAD_TABLES, optimize
from tests.factories import make_course, make_enrollment, make_university


def _statistics(session) -> set[str]:
    found = session.execute(
        text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ).first()
    if found is None:
        return set()
    return {row[0] for row in session.execute(text("SELECT tbl FROM sqlite_stat1"))}


def test_optimize_leaves_statistics_of_the_upload_tables(session):
    course = make_course(session, make_university(session))
    for _ in range(3):
        make_enrollment(session, course)
    if session.get_bind().dialect.name != "sqlite":
        optimize(session)  # PostgreSQL: autovacuum's business; nothing to run, nothing breaks
        session.commit()
        return
    assert not {"trainee", "enrollment"} & _statistics(session)  # a database the app filled
    optimize(session)
    session.commit()
    assert {"trainee", "enrollment"} <= _statistics(session)
    assert set(UPLOAD_TABLES) >= {"trainee", "enrollment", "completion"}
