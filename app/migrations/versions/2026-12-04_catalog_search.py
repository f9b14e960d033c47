"""catalog: a text index over courses' titles and descriptions (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:00:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# SQLite: an FTS5 index whose content is the course table itself (external content: no second
# copy of the texts), kept by triggers. Only a change of the three texts touches it: taking a
# seat (UPDATE seats_taken) does not. A later migration that rebuilds course in batch mode
# (copy, drop, rename) drops these triggers with the old table: it must create them again and
# run the 'rebuild' below; tests/catalog fails if the index stops following the table.
SQLITE = [
    """CREATE VIRTUAL TABLE course_search USING fts5(
        title, title_en, description, content='course', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER course_search_added AFTER INSERT ON course BEGIN
        INSERT INTO course_search (rowid, title, title_en, description)
        VALUES (NEW.id, NEW.title, NEW.title_en, NEW.description);
    END""",
    """CREATE TRIGGER course_search_removed AFTER DELETE ON course BEGIN
        INSERT INTO course_search (course_search, rowid, title, title_en, description)
        VALUES ('delete', OLD.id, OLD.title, OLD.title_en, OLD.description);
    END""",
    """CREATE TRIGGER course_search_changed AFTER UPDATE OF title, title_en, description ON course
    BEGIN
        INSERT INTO course_search (course_search, rowid, title, title_en, description)
        VALUES ('delete', OLD.id, OLD.title, OLD.title_en, OLD.description);
        INSERT INTO course_search (rowid, title, title_en, description)
        VALUES (NEW.id, NEW.title, NEW.title_en, NEW.description);
    END""",
    "INSERT INTO course_search (course_search) VALUES ('rebuild')",
]
# PostgreSQL: ILIKE '%...%' over each text, served by one GIN index of their trigrams. The
# expressions are those of app/catalog/search.py, character for character.
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX ix_course_search ON course USING gin (
        title gin_trgm_ops, (COALESCE(title_en, '')) gin_trgm_ops,
        (COALESCE(description, '')) gin_trgm_ops
    )""",
]


def upgrade() -> None:
    for statement in POSTGRESQL if _pg() else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if _pg():
        # The extension stays: another database object may use it by now.
        op.execute("DROP INDEX ix_course_search")
        return
    for trigger in ("course_search_added", "course_search_removed", "course_search_changed"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE course_search")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
