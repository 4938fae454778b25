"""How long routing's agreement questions take: ``links_for`` for one
borrower against every other library, and the status of every agreement.

    python bench/agreements_links.py [--libraries 300] [--per-library 20] [--db URL]

Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta

from ill import create_app
from ill.extensions import db


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--libraries", type=int, default=300)
    ap.add_argument("--per-library", type=int, default=20, help="agreements per library")
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    rng = random.Random(7)
    with app.app_context():
        from agreements import queries, service
        from agreements.models import Agreement, AgreementParty, AgreementService, Partner

        db.drop_all()
        db.create_all()
        partners = [Partner(code=f"L{i:04d}", name=f"Library {i}") for i in range(args.libraries)]
        db.session.add_all(partners)
        db.session.flush()
        today = date(2026, 11, 23)
        count = args.libraries * args.per_library // 2
        for _ in range(count):
            a, b = rng.sample(partners, 2)
            start = today - timedelta(days=rng.randint(0, 3000))
            end = start + timedelta(days=rng.choice([365, 3 * 365, 5 * 365]))
            db.session.add(Agreement(
                start_date=start, end_date=end, scope_forms=[],
                parties=[AgreementParty(partner_id=a.id), AgreementParty(partner_id=b.id)],
                services=[AgreementService(service="loan"), AgreementService(service="copy")]))
        db.session.commit()
        borrower = partners[0]
        lenders = [p.id for p in partners[1:]]
        runs = 50
        t0 = time.perf_counter()
        for _ in range(runs):
            links = queries.links_for(db.session, borrower.id, lenders, "loan", today)
            db.session.expunge_all()
        per_call = (time.perf_counter() - t0) / runs
        live = sum(1 for link in links.values() if link.live)
        t0 = time.perf_counter()
        rows = service.listing(db.session, today)
        listing = time.perf_counter() - t0
        print(f"database: {url.split(':')[0]}")
        print(f"libraries: {args.libraries}, agreements: {count}")
        print(f"links_for(1 borrower, {len(lenders)} lenders): {per_call * 1000:.1f} ms per call "
              f"({live} live)")
        print(f"listing every agreement with its status: {listing * 1000:.0f} ms for {len(rows)}")


if __name__ == "__main__":
    main()
