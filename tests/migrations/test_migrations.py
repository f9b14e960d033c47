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
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": migrate.include_name}
            ),
            SQLModel.metadata,
        )
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


def test_0003_moves_contact_details_onto_enrollments_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'contact.db'}"
    migrate.upgrade(url, "0002")
    engine = make_engine(url)
    rows = [
        "INSERT INTO university(code,name,city_code,created_at) VALUES('U','u','3701','2026-01-01')",
        "INSERT INTO course(code,title,hours,capacity,starts_on,ends_on,university_id,seats_taken,"
        "is_open,created_at) VALUES('C','t',1,1,'2026-01-01','2026-02-01',1,1,1,'2026-01-01')",
        "INSERT INTO company(uscc,name,created_at) VALUES('X','x','2026-01-01')",
        "INSERT INTO trainee(id_hash,id_encrypted,id_masked,name,mobile_encrypted,mobile_masked,"
        "created_at,updated_at) VALUES('h','e','m','n','ENC','138****0000','2026-01-01','2026-01-01')",
        "INSERT INTO enrollment(enrollment_no,course_id,trainee_id,company_id,status,consent_version,"
        "consent_at,consent_channel,share_with_employer,created_at) "
        "VALUES('BM1',1,1,1,'enrolled','v','2026-01-01','web',0,'2026-01-01')",
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))
    migrate.upgrade(url)
    with engine.connect() as conn:
        moved = conn.execute(text("SELECT mobile_encrypted, mobile_masked FROM enrollment")).one()
        assert tuple(moved) == ("ENC", "138****0000")
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    migrate.downgrade(url, "0002")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT mobile_encrypted, mobile_masked FROM trainee")).one()
        assert tuple(back) == ("ENC", "138****0000")
    engine.dispose()
