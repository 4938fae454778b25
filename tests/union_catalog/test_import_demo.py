"""The demo catalogue loads, links SLiMS items, and loads again unchanged."""
from __future__ import annotations

from sqlalchemy import func, select

from union_catalog.models import ImportRun, Item, SourceRecord


def test_demo_catalogue(runner, session):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "catalogue UINSU" in first.output and "catalogue PNRI" in first.output
    n = session.scalar(select(func.count(SourceRecord.id)))
    # the four exports imported as uploads are, each a run of the import history
    imported = session.scalar(select(func.count(SourceRecord.id)).where(SourceRecord.import_run_id.is_not(None)))
    assert imported == 50
    runs = session.scalars(select(ImportRun)).all()
    assert sorted(r.filename for r in runs) == ["PNRI.mrc", "UGM.mrc", "UINSU.mrc", "UINSUKA.xml"]
    assert all(r.status == "done" and r.finished_at and r.read for r in runs)
    assert session.scalar(select(func.count(Item.id)).where(Item.source == "csv")) > 10
    assert session.scalar(select(func.count(Item.id)).where(Item.source == "866")) == 3
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "catalogue UGM: already loaded" in again.output
    assert session.scalar(select(func.count(SourceRecord.id))) == n
