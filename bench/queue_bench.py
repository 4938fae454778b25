#!/usr/bin/env python3
"""How long a page of a library's queue takes as the queue grows: the page
the service gives (its count and its newest rows, ill.paging.fetch), a
search in it by title and by patron, next to the bare statement of the
newest rows alone (the floor: what the page cost before it counted), in the
same process.

    python bench/queue_bench.py [--requests 20000] [--runs 30] [--db URL]

Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, runs: int) -> float:
    """Median milliseconds of ``runs`` calls, after one to warm up."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()

    from sqlalchemy import select

    from agreements import partners as partner_service
    from ill import clock, create_app, schema_extras
    from ill import requests_service as service
    from ill.accounts import create_user
    from ill.extensions import db
    from ill.models import LoanRequest

    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/queue.sqlite3"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        schema_extras.create_all(db.session)
        libraries = [partner_service.upsert(db.session, f"L{i:02d}", f"Perpustakaan {i}")[0] for i in range(30)]
        db.session.flush()
        home = libraries[0]
        librarian = create_user(db.session, "pustakawan@l00.example", "x" * 12, "librarian", library=home)
        patrons = [create_user(db.session, f"p{i}@l00.example", "x" * 12, "patron", library=home, name=f"Pemustaka {i}")
                   for i in range(200)]
        db.session.flush()
        rng = random.Random(7)
        statuses = ["requested", "will_supply", "loaned", "received", "checked_out", "completed", "unfilled"]
        today = clock.today()
        db.session.add_all(LoanRequest(
            patron_id=rng.choice(patrons).id, requester_library_id=rng.choice(libraries).id,
            current_lender_id=rng.choice(libraries).id, service="loan", status=rng.choice(statuses),
            citation={"title": f"Judul {n} {rng.choice(['hukum', 'tafsir', 'ekonomi', 'sejarah'])}"},
            created_on=today, round=1, version=1) for n in range(args.requests))
        db.session.commit()
        mine = db.session.scalar(select(db.func.count(LoanRequest.id)).where(
            LoanRequest.requester_library_id == home.id))
        print(f"{args.requests} requests, {mine} of them borrowed by the library looked at; {url.split(':')[0]}; "
              f"median of {args.runs} runs, ms")

        def bare():
            return list(db.session.scalars(select(LoanRequest).where(LoanRequest.requester_library_id == home.id)
                                           .order_by(LoanRequest.id.desc()).limit(service.PER_PAGE)))

        floor = timed(bare, args.runs)
        print(f"  bare newest rows (floor)        {floor:7.2f}")
        for label, q in (("queue page (count and rows)", None), ("find by title 'tafsir'", "tafsir"),
                         ("find by patron 'pemustaka 1'", "pemustaka 1"), ("find by number", "#1234")):
            ms = timed(lambda q=q: service.queue_page(db.session, librarian, "borrowing", None, q), args.runs)
            print(f"  {label:<31} {ms:7.2f}  {ms / floor:5.1f}x")


if __name__ == "__main__":
    main()
