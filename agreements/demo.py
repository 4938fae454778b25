"""Demo agreements: UIN Sumatera Utara's real cooperation table (16 rows, in
demo_data/) and one network agreement, in force now, among UINSU, UGM and
UIN Sunan Kalijaga. Idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from ill import clock

from . import partners as partner_service
from . import service, sheets
from .models import Agreement

TABLE = Path(__file__).resolve().parent / "demo_data" / "kerjasama_uinsu.csv"
NETWORK_TITLE = "Jaringan Layanan Pinjam Antar Perpustakaan UINSU–UGM–UIN Sunan Kalijaga"


def load(session, today: date | None = None) -> list[str]:
    today = today or clock.today()
    actor = service.Actor(label="demo")
    if partner_service.by_code(session, "UINSU") is None:
        partner_service.upsert(session, "UINSU", "Perpustakaan UIN Sumatera Utara")
        session.flush()
    report = sheets.import_csv(
        session, TABLE.read_text(encoding="utf-8"), "UINSU", ["loan", "copy"], actor, filename=TABLE.name
    )
    lines = [f"{len(report.created)} agreements from {TABLE.name} ({report.skipped} there already)"]
    exists = session.scalar(select(Agreement.id).where(Agreement.title == NETWORK_TITLE))
    if exists is None:
        for code, name in (("UGM", "Universitas Gadjah Mada"), ("UINSUKA", "UIN Sunan Kalijaga")):
            if partner_service.by_code(session, code) is None:
                partner_service.upsert(session, code, name)
        session.flush()
        start = today - timedelta(days=365)
        service.create(
            session,
            {
                "title": NETWORK_TITLE,
                "number": "001/JPAP/2025",
                "parties": ["UINSU", "UGM", "UINSUKA"],
                "start_date": start,
                "duration_months": 36,
                "scope_forms": ["interlibrary_loan", "union_catalogue", "information_services"],
                "purpose": "Pinjam antar perpustakaan dan penyediaan salinan dokumen bagi sivitas "
                "akademika ketiga perguruan tinggi.",
                "services": {
                    "loan": {"loan_period_days": 14, "renewals_allowed": 1, "response_days": 3},
                    "copy": {"response_days": 2, "cost_per_page": "0"},
                },
            },
            actor,
        )
        lines.append("1 network agreement (UINSU, UGM, UINSUKA)")
    lines.append(_closed_days(session, today))
    return lines


def _closed_days(session, today: date) -> str:
    """This year's and next year's public holidays for the whole network, and
    UGM's stock-taking in three weeks, so the calendar has something to show."""
    from . import calendar

    added = []
    for year in (today.year, today.year + 1):
        added += calendar.add_public_holidays(session, None, year, "id")[0]
    from .models import ClosedDay

    ugm = partner_service.by_code(session, "UGM")
    if ugm is not None and not ugm.lending_policy:
        ugm.lending_policy = ("Buku teks dipinjamkan 14 hari, dapat diperpanjang sekali.\n"
                              "Skripsi, tesis dan koleksi referensi: salinan saja.\n"
                              "Dikirim lewat Pos Indonesia; dikembalikan dengan paket tercatat.")
        # the same, as rules the network applies: theses lent only as copies, copies of up to 60 pages
        ugm.no_loan_formats = "thesis"
        ugm.copy_max_pages = 60
    if ugm is not None and session.scalar(select(ClosedDay.id).where(ClosedDay.partner_id == ugm.id).limit(1)) is None:
        start = today + timedelta(days=21)
        added += calendar.add(session, None, start, start + timedelta(days=2), "Stock opname", ugm)[0]
    return f"{len(added)} closed days (public holidays, UGM's stock-taking)"
