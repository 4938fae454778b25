"""The demo catalogue: four partners' sample exports, imported as a partner
would import them (idempotent: a second load changes nothing)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ill.accounts import utcnow

from . import importer
from .models import ImportRun, SourceRecord

DATA = Path(__file__).resolve().parent / "demo_data"
# partner code, export, SLiMS item file
EXPORTS = [
    ("UINSU", "UINSU.mrc", "UINSU_items.csv"),
    ("UGM", "UGM.mrc", None),
    ("UINSUKA", "UINSUKA.xml", None),
    ("PNRI", "PNRI.mrc", None),
]


def load(session) -> list[str]:
    from agreements.models import Partner

    lines = []
    for code, export, items in EXPORTS:
        partner = session.scalar(select(Partner).where(Partner.code == code))
        if partner is None:
            continue
        # Once a partner has records, leave them: an import would withdraw
        # whatever other demos added to that library's catalogue.
        if session.scalar(select(SourceRecord.id).where(SourceRecord.partner_id == partner.id).limit(1)):
            lines.append(f"catalogue {code}: already loaded")
            continue
        # as an upload runs, so that the demo's import history and "copies as of" show it
        run = ImportRun(partner_id=partner.id, filename=export, items_filename=items, status="running",
                        started_at=utcnow())
        session.add(run)
        session.flush()
        report = importer.import_export(session, partner, str(DATA / export),
                                        items_path=str(DATA / items) if items else None, run=run,
                                        filename=export)
        run.status, run.finished_at = "done", utcnow()
        lines.append(f"catalogue {code}: {report['imported']} records, {report['items']} items "
                     f"({report['inserted']} new)")
    return lines
