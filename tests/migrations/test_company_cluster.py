"""Migration 0006: the company cluster takes only the clusters of CLUSTERS, and back."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import text

from app import migrate
from app.db import make_engine

ROW = "INSERT INTO company(uscc,name,cluster,created_at) VALUES(:uscc,'x',:cluster,'2026-01-01')"


def _insert(engine, uscc: str, cluster: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(text(ROW), {"uscc": uscc, "cluster": cluster})


def _clusters(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT uscc, cluster FROM company")).all())


def test_0006_keeps_the_clusters_refuses_others_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'cluster.db'}"
    migrate.upgrade(url, "0005")
    engine = make_engine(url)
    _insert(engine, "A", "knitwear")
    _insert(engine, "B", "针织")  # typed into the database by hand: no cluster of ours
    _insert(engine, "C", None)

    migrate.upgrade(url, "0006")
    assert _clusters(engine) == {"A": "knitwear", "B": None, "C": None}
    with pytest.raises(IntegrityError):
        _insert(engine, "D", "silk")

    migrate.downgrade(url, "0005")
    _insert(engine, "D", "silk")  # the constraint is gone with the migration
    assert _clusters(engine)["A"] == "knitwear"
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert conn.execute(text("PRAGMA index_list(company)")).all()  # ix_company_uscc kept
    engine.dispose()
