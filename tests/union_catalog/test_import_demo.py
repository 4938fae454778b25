"""The demo catalogue loads, links SLiMS items, and loads again unchanged."""
from __future__ import annotations

from sqlalchemy import func, select

from union_catalog.models import Item, SourceRecord


def test_demo_catalogue(runner, session):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "catalogue UINSU" in first.output and "catalogue PNRI" in first.output
    n = session.scalar(select(func.count(SourceRecord.id)))
    demo_keys = session.scalar(select(func.count(SourceRecord.id)).where(SourceRecord.import_run_id.is_(None),
                                                                         ~SourceRecord.record_key.like("loan-demo%")))
    assert demo_keys == 50
    assert session.scalar(select(func.count(Item.id)).where(Item.source == "csv")) > 10
    assert session.scalar(select(func.count(Item.id)).where(Item.source == "866")) == 3
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "catalogue UGM: already loaded" in again.output
    assert session.scalar(select(func.count(SourceRecord.id))) == n
