"""Demo loan requests: a few union records held by UGM and UIN Sunan
Kalijaga, and requests by UINSU's demo patrons in different states (asked,
shipped and received, a copy on its way, a book reported lost, a book kept
long past its due date). Loaded after the partners, users
and agreements demos; idempotent (nothing is added when the demo patron has
requests already)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from agreements import partners as partner_service

from . import accounts, clock
from . import requests_service as service
from .models import LoanRequest

PATRON = "mahasiswa@uinsu.demo.ill"
# A second patron, who lost a book the lender has still to settle and keeps
# another long past its due date.
LOSER = "dosen@uinsu.demo.ill"
LIBRARIANS = {
    "UINSU": "pustakawan@uinsu.demo.ill",
    "UGM": "pustakawan@ugm.demo.ill",
    "UINSUKA": "pustakawan@uinsuka.demo.ill",
}

# (record key, title, author, year, format, {library: [(status, coverage)]})
RECORDS = [
    (
        "loan-demo-1",
        "Jaringan ulama Timur Tengah dan kepulauan Nusantara abad XVII dan XVIII",
        "Azra, Azyumardi",
        2004,
        "book",
        {"UGM": [("available", "")], "UINSUKA": [("available", "")]},
    ),
    (
        "loan-demo-2",
        "Hikayat Raja Pasai",
        "Hill, A. H.",
        1960,
        "book",
        {"UGM": [("on_loan", ""), ("available", "")], "UINSUKA": [("not_for_loan", "")]},
    ),
    (
        "loan-demo-3",
        "Studia Islamika: Indonesian journal for Islamic studies",
        "",
        1994,
        "serial",
        {"UINSUKA": [("not_for_loan", "v.1(1994)-v.30(2023)")], "UGM": [("available", "v.10(2003)-v.20(2013)")]},
    ),
]


def _records(session) -> list[int]:
    from union_catalog.models import Cluster, Item, SourceRecord

    ids = []
    for key, title, author, year, fmt, holdings in RECORDS:
        existing = session.scalar(select(SourceRecord.cluster_id).where(SourceRecord.record_key == key))
        if existing is not None:
            ids.append(existing)
            continue
        cluster = Cluster(title=title, author=author, year=year, format=fmt, member_count=len(holdings))
        session.add(cluster)
        session.flush()
        for n, (code, copies) in enumerate(holdings.items()):
            partner = partner_service.by_code(session, code)
            if partner is None:
                continue
            record = SourceRecord(
                partner_id=partner.id,
                record_key=key if n == 0 else f"{key}-{code}",
                control_number=None,
                ordinal=n + 1,
                content_hash=key,
                marc={},
                title=title,
                author=author,
                year=year,
                cluster_id=cluster.id,
            )
            for i, (status, coverage) in enumerate(copies):
                record.items.append(
                    Item(
                        barcode=f"{code}-{key}-{i + 1}",
                        call_number=f"297.{i + 1} DEM",
                        location="Koleksi umum",
                        status=status,
                        coverage=coverage,
                        source="none",
                    )
                )
            session.add(record)
        session.flush()
        ids.append(cluster.id)
    return ids


def load(session, today: date | None = None) -> list[str]:
    today = today or clock.today()
    patron = accounts.find_user(session, PATRON)
    if patron is None:
        return ["loan requests: no demo patron, none made"]
    if session.scalar(select(LoanRequest.id).where(LoanRequest.patron_id == patron.id).limit(1)):
        return ["loan requests: there already"]
    users = {code: accounts.find_user(session, email) for code, email in LIBRARIANS.items()}
    first, second, serial = _records(session)

    def act(req, action, day=today, **params):
        lender = users.get(req.current_lender.code) if req.current_lender else None
        who = lender if action in ("will_supply", "loaned", "expect_to_supply") else users["UINSU"]
        service.fire(session, who, req, action, params, req.version, day)

    asked = service.create(
        session, patron, {"record_id": first, "service": "loan", "note": "Untuk skripsi bab II"}, today
    )
    received = service.create(session, patron, {"record_id": second, "service": "loan"}, today)
    copy = service.create(
        session,
        patron,
        {
            "record_id": serial,
            "service": "copy",
            "copyright_ack": True,
            "citation": {"article_title": "Islam in Southeast Asia", "volume": "12", "year": "2005", "pages": "1-30"},
        },
        today,
    )
    lines = []
    if received.current_lender is not None and users.get(received.current_lender.code):
        for action in ("will_supply", "loaned", "received"):
            act(received, action)
        act(received, "message", note="Terima kasih, buku sudah kami terima dalam keadaan baik.")
    if copy.current_lender is not None and users.get(copy.current_lender.code):
        act(copy, "will_supply")
    made = [asked, received, copy]
    loser = accounts.find_user(session, LOSER)
    if loser is not None:
        lost = service.create(session, loser, {"record_id": first, "service": "loan"}, today)
        if lost.current_lender is not None and users.get(lost.current_lender.code):
            for action in ("loaned", "received", "checked_out"):
                act(lost, action)
            act(lost, "report_lost", reason="Hilang di angkutan umum; pemustaka bersedia mengganti")
        made.append(lost)
        # asked seven weeks ago, lent for four: long overdue now
        asked_on = today - timedelta(days=49)
        late = service.create(session, loser, {"record_id": second, "service": "loan"}, asked_on)
        if late.current_lender is not None and users.get(late.current_lender.code):
            for action in ("loaned", "received", "checked_out"):
                act(late, action, day=asked_on + timedelta(days=3),
                    **({"due_date": (asked_on + timedelta(days=31)).isoformat()} if action == "loaned" else {}))
            service.tick_overdue(session, today)
        made.append(late)
    for req in made:
        lines.append(
            f"loan request {req.id}: {req.service} {req.status}"
            + (f" with {req.current_lender.code}" if req.current_lender else "")
        )
    return lines
