"""A small network for the delivery and notice tests: a borrowing and a
lending library under a signed agreement, a union record the lender holds,
their librarians and patrons, and helpers to move requests along."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from agreements.models import Agreement, AgreementParty, AgreementService
from ill import clock, requests_service
from ill.extensions import db
from union_catalog.models import Cluster, Item, SourceRecord


def pdf_bytes(pages: int = 3) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Network:
    borrower: object
    lender: object
    outsider_lib: object
    patron: object
    other_patron: object
    borrower_librarian: object
    lender_librarian: object
    lender_librarian2: object
    outsider_librarian: object
    coordinator: object
    cluster: object
    journal: object


def _agreement(session, a, b, cost_per_page) -> Agreement:
    today = clock.today()
    agreement = Agreement(title=f"MoU {a.code} {b.code}", scope_forms=[], state="signed",
                          start_date=today - timedelta(days=365),
                          end_date=today + timedelta(days=730))
    agreement.parties = [AgreementParty(partner_id=a.id), AgreementParty(partner_id=b.id)]
    agreement.services = [
        AgreementService(service="loan", loan_period_days=28, renewals_allowed=2, response_days=3),
        AgreementService(service="copy", response_days=3, cost_per_page=cost_per_page)]
    session.add(agreement)
    session.flush()
    return agreement


def _holding(session, cluster, partner, status="available", n=0):
    key = f"{cluster.id}-{partner.code}-{n}"
    record = SourceRecord(partner_id=partner.id, record_key=key, control_number=key, ordinal=1,
                          content_hash=key, marc={}, title=cluster.title, cluster_id=cluster.id)
    record.items.append(Item(barcode=f"{key}-1", call_number="297.9 AZR",
                             status=status))
    session.add(record)


def build(make, *, patron_locale="id", lender_locale="en",
          cost_per_page=Decimal("500.00")) -> Network:
    session = make.session
    borrower = make.partner("BORROW", "Perpustakaan Peminjam")
    lender = make.partner("LEND", "Perpustakaan Pemberi")
    outsider_lib = make.partner("OTHER", "Perpustakaan Lain")
    _agreement(session, borrower, lender, cost_per_page)
    cluster = Cluster(title="Sejarah Islam di Nusantara", author="Azra", year=2004, format="book")
    journal = Cluster(title="Studia Islamika", year=2019, format="serial")
    session.add_all([cluster, journal])
    session.flush()
    _holding(session, cluster, lender)
    _holding(session, journal, lender)
    net = Network(
        borrower=borrower, lender=lender, outsider_lib=outsider_lib,
        patron=make.user("patron", library=borrower, locale=patron_locale, name="Siti"),
        other_patron=make.user("patron", library=borrower, locale="en", name="Other"),
        borrower_librarian=make.user("librarian", library=borrower, locale="id", name="Budi"),
        lender_librarian=make.user("librarian", library=lender, locale=lender_locale, name="Lena"),
        lender_librarian2=make.user("librarian", library=lender, locale="id", name="Lintang"),
        outsider_librarian=make.user("librarian", library=outsider_lib, locale="en"),
        coordinator=make.user("coordinator", locale="en"),
        cluster=cluster, journal=journal)
    make.commit()
    return net


def copy_request(net, **citation):
    citation = {"article_title": "Islam and the State", "pages": "1-12", "volume": "26",
                "year": "2019", **citation}
    req = requests_service.create(db.session, net.patron, {
        "record_id": net.journal.id, "service": "copy", "citation": citation,
        "copyright_ack": True})
    db.session.commit()
    return req


def loan_request(net):
    req = requests_service.create(db.session, net.patron, {
        "record_id": net.cluster.id, "service": "loan"})
    db.session.commit()
    return req


def act(user, req, action, day: date | None = None, **params):
    db.session.refresh(req)
    event = requests_service.fire(db.session, user, req, action, params, req.version, day)
    db.session.commit()
    return event
