"""A little world of partners whose exports the tests import the way the
importer does (the ``world`` fixture, in conftest.py)."""
from __future__ import annotations

from sqlalchemy import select

from union_catalog import importer, search
from union_catalog.models import Cluster, SourceRecord

from .test_matching import rec


def write(path, records) -> str:
    with open(path, "wb") as fh:
        for r in records:
            fh.write(r.as_marc())
    return str(path)


class World:
    """Partners and their exports, imported the way the importer does."""

    def __init__(self, make, session, tmp_path):
        self.make, self.session, self.tmp = make, session, tmp_path
        self.partners = {}
        self.n = 0

    def load(self, code, *records):
        partner = self.partners.get(code) or self.make.partner(code)
        self.partners[code] = partner
        self.n += 1
        path = write(self.tmp / f"{code}-{self.n}.mrc", records)
        report = importer.import_export(self.session, partner, path)
        self.session.commit()
        search.upkeep_after_commit(self.session, report["clusters"]["touched"])  # as jobs.execute
        return report

    def record(self, code, control) -> SourceRecord:
        self.session.expire_all()
        return self.session.scalar(select(SourceRecord).where(
            SourceRecord.partner_id == self.partners[code].id, SourceRecord.record_key == control))

    def cluster_of(self, code, control) -> int | None:
        return self.record(code, control).cluster_id

    def cluster(self, cid) -> Cluster:
        self.session.expire_all()
        return self.session.get(Cluster, cid)


def book(control, **kw):
    return rec(control=control, **kw)
