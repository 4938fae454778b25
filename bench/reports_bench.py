#!/usr/bin/env python3
"""How long the staff reports and the search alerts take over a whole
network: the generated partner exports imported, then collection overlap,
a library's last copies, catalogue quality and the daily run of search
alerts, each timed (median of --runs) next to the bare statement that reads
what it needs (its floor on this database, measured in the same process).

    python bench/reports_bench.py [--exports DIR | --editions N] [--db sqlite|postgresql] [--runs N]
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import import_bench  # noqa: E402

ALERT_WORDS = ("hukum", "islam", "pendidikan", "ekonomi", "sejarah", "tafsir", "manajemen", "akuntansi",
               "filsafat", "komunikasi")


def timed(fn, runs: int) -> tuple[float, object]:
    """Median seconds of fn() over runs, and its last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bare(session, sql: str) -> list:
    """The statement's rows through the driver's own cursor: the floor."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def report(label: str, secs: float, floor: float | None = None, note: str = "") -> None:
    ratio = f"  {secs / floor:5.1f}x the bare statement's {floor * 1000:7.1f} ms" if floor else ""
    print(f"{label:<38} {secs * 1000:8.1f} ms{ratio}{'  ' + note if note else ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exports", type=Path)
    ap.add_argument("--editions", type=int)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg", help="PostgreSQL URL (default: a database on 127.0.0.1:5432)")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        folder = a.exports or Path(tmp) / "exports"
        if not a.exports:
            import_bench.make_exports(folder, a.editions)
        rows = import_bench.partners(folder)
        if a.db == "postgresql":
            url = import_bench.pg_url(a.pg)
            if url is None:
                sys.exit("PostgreSQL is not reachable")
        else:
            url = f"sqlite:///{Path(tmp) / 'reports.sqlite3'}"
        secs, n, _again, _cpu = import_bench.import_all(url, folder, rows, again=False)
        print(f"{len(rows)} partners, {n} records imported on {a.db} in {secs:.1f} s")
        run(url, a.runs)


def run(url: str, runs: int) -> None:
    from sqlalchemy import func, select, update

    from ill import accounts, create_app
    from ill.extensions import db
    from union_catalog import alerts, overlap, quality
    from union_catalog.models import SearchAlert, SearchHolding, SourceRecord

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "MAIL_BACKEND": "memory"})
    pg = url.startswith("postgresql")
    with app.app_context():
        s = db.session
        holdings = s.scalar(select(func.count()).select_from(SearchHolding))
        overlap.collection_overlap(s)  # the pages in the cache, for the floor as for the report
        floor, _ = timed(lambda: bare(s, "SELECT cluster_id, partner_id FROM catalog_search_holdings"), runs)
        secs, found = timed(lambda: overlap.collection_overlap(s), runs)
        report("collection overlap, every library", secs, floor,
               f"{found.editions} editions, {holdings} holdings, {found.unique} last copies")
        secs, _ = timed(lambda: overlap.collection_overlap(s, "book"), runs)
        report("collection overlap, books", secs)
        biggest = found.libraries[0]
        secs, copies = timed(lambda: overlap.last_copies(s, biggest.partner_id), runs)
        report(f"last copies of {biggest.code}", secs, None, f"{len(copies)} union records")

        records = s.scalar(select(func.count(SourceRecord.id)))
        # the records' facts as the database holds them (text, not decoded)
        floor, _ = timed(lambda: bare(s, f"SELECT id, partner_id, match_data{'::text' if pg else ''} "
                                         "FROM source_records WHERE withdrawn_at IS NULL"), runs)
        secs, _ = timed(lambda: quality.catalogue_quality(s), runs)
        report("catalogue quality, every library", secs, floor, f"{records} records")
        secs, _ = timed(lambda: quality.catalogue_quality(s, [biggest.partner_id]), runs)
        report(f"catalogue quality, {biggest.code}", secs, None, f"{biggest.held} editions")
        secs, lacking = timed(lambda: quality.lacking(s, biggest.partner_id, quality.CHECK_KEYS["isbn"]), runs)
        report(f"{biggest.code}'s books without an ISBN", secs, None, f"{len(lacking)} records")

        user = accounts.create_user(s, "bench-alerts@example.org", "correct horse battery", "coordinator")
        s.flush()
        for word in ALERT_WORDS[:alerts.MAX_PER_USER]:
            alerts.create(s, user, {"q": word})
        s.commit()
        newest = s.scalar(select(func.max(SearchAlert.seen_up_to)))
        count = len(ALERT_WORDS)
        times = []
        for _ in range(runs):  # each run finds the newest 2,000 union records new again
            s.execute(update(SearchAlert).values(seen_up_to=newest - 2000))
            t = time.perf_counter()
            lines = alerts.run(s, None)
            times.append(time.perf_counter() - t)
            s.rollback()
        secs = statistics.median(times)
        report(f"search alerts, {count} searches", secs, None,
               f"{secs * 1000 / count:.1f} ms each; {lines[0] if lines else 'nothing new'}")


if __name__ == "__main__":
    main()
