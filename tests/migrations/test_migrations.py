from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, text

import app.models  # noqa: F401
from app import migrate
from app.db import make_engine


def test_migrations_match_the_models(settings):
    """The migrated test database has exactly the tables and columns the models declare."""
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_cities_are_seeded(session):
    names = session.exec(text("SELECT name FROM city ORDER BY code")).all()
    assert len(names) == 16 and names[0][0] == "济南" and names[-1][0] == "菏泽"


def test_downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM city")).scalar() == 16
    engine.dispose()
