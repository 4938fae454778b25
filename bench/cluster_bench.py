#!/usr/bin/env python3
"""How fast and how well the union catalogue clusters a generated set.

Usage: cluster_bench.py EXPORTS_DIR [--db URL] [--keep]

EXPORTS_DIR is a folder made by ../shared/bench/make_exports.py. The bench
  1. times pymarc's bare parse of every file (the import budget's unit),
  2. imports every partner through the real importer into a fresh database
     (SQLite in a temporary folder unless --db names one), timing the import
     and the clustering inside it,
  3. times the pure clustering of every record at once (matching.cluster),
  4. writes `catalog clusters` CSV and scores it with score_clusters.py,
  5. re-imports one partner unchanged and one with a few records changed,
     and reports how many union record ids moved.
It prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymarc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCORER = ROOT.parent / "shared" / "bench" / "score_clusters.py"


def bare_parse(folder: Path, partners: list[dict]) -> tuple[float, float]:
    """pymarc alone, as bench/import_bench.py reads the files: parse_xml_to_array
    for MARCXML, each ISO 2709 record up to its terminator into pymarc.Record
    (MARCReader stops at the first record with a wrong leader length)."""
    t, cpu = time.perf_counter(), time.process_time()
    for p in partners:
        path = folder / p["file"]
        if p["format"] == "marcxml":
            pymarc.parse_xml_to_array(str(path))
            continue
        for chunk in path.read_bytes().split(b"\x1d"):
            if not chunk.strip():
                continue
            try:
                pymarc.Record(chunk + b"\x1d", utf8_handling="replace", hide_utf8_warnings=True)
            except Exception:  # noqa: BLE001 - a broken record, as pymarc sees it
                pass
    return time.perf_counter() - t, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file")
    a = ap.parse_args()
    partners = list(csv.DictReader(open(a.folder / "partners.csv", newline="")))

    import logging

    logging.getLogger("pymarc").setLevel(logging.ERROR)
    parse_s, parse_cpu = bare_parse(a.folder, partners)
    print(f"pymarc bare parse of {len(partners)} files: {parse_s:.2f} s (CPU {parse_cpu:.2f} s)")

    tmp = tempfile.mkdtemp(prefix="cluster-bench-")
    url = a.db or f"sqlite:///{tmp}/bench.sqlite3"
    from sqlalchemy import func, select, text

    from ill import create_app, schema_extras
    from ill.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DATA_DIR": tmp,
                      "TESTING": False, "CATALOG_RUN_JOBS_IN_PROCESS": True})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        schema_extras.create_all(db.session)
        db.session.commit()
        from agreements import partners as partner_service
        from union_catalog import importer, matching
        from union_catalog.models import Cluster, SourceRecord

        objs = {}
        for p in partners:
            objs[p["code"]] = partner_service.upsert(db.session, p["code"], p["name"])[0]
        db.session.commit()

        import_s = cluster_s = cluster_cpu = import_cpu = 0.0
        for p in partners:
            t, cpu = time.perf_counter(), time.process_time()
            items = str(a.folder / p["items_file"]) if p["items_file"] else None
            report = importer.import_export(db.session, objs[p["code"]],
                                            str(a.folder / p["file"]), items_path=items)
            db.session.commit()
            took = time.perf_counter() - t
            import_s += took
            import_cpu += time.process_time() - cpu
            info = report.get("clusters") or {}
            c = info.get("cluster_seconds") or 0.0
            cluster_s += c
            cluster_cpu += info.get("cluster_cpu_seconds") or 0.0
            print(f"  {p['code']:<8} {report['imported']:>6} records  import {took:6.2f} s  "
                  f"of which clustering {c:5.2f} s (read {info.get('cluster_read_seconds')}, "
                  f"keys {info.get('cluster_keys_seconds')}, "
                  f"match {info.get('cluster_match_seconds')}; scope {info.get('scope')})")
        n = db.session.scalar(select(func.count()).select_from(SourceRecord))
        k = db.session.scalar(select(func.count()).select_from(Cluster)
                              .where(Cluster.member_count > 0))
        print(f"import of {n} records into {k} union records: {import_s:.2f} s "
              f"({import_s / parse_s:.2f}x the bare parse); clustering {cluster_s:.2f} s "
              f"({cluster_s / parse_s:.2f}x)")
        print(f"CPU time: import {import_cpu:.2f} s ({import_cpu / parse_cpu:.2f}x the bare "
              f"parse's {parse_cpu:.2f} s); clustering {cluster_cpu:.2f} s "
              f"({cluster_cpu / parse_cpu:.2f}x)")

        rows = db.session.execute(select(SourceRecord.id, SourceRecord.match_data)
                                  .where(SourceRecord.withdrawn_at.is_(None))).all()
        t, cpu = time.perf_counter(), time.process_time()
        matching.cluster((rid, str(rid), facts) for rid, facts in rows)
        print(f"pure clustering of {len(rows)} records at once: {time.perf_counter() - t:.2f} s "
              f"(CPU {time.process_time() - cpu:.2f} s)")

        out = Path(tmp) / "clusters.csv"
        runner = app.test_cli_runner()
        result = runner.invoke(args=["catalog", "clusters", "--out", str(out)])
        if result.exit_code:
            print(result.output)
        if SCORER.exists():
            subprocess.run([sys.executable, str(SCORER), str(a.folder / "truth.csv"), str(out)],
                           check=False)

        # incremental: the same export again, then one with records changed
        code = "PNRI" if any(p["code"] == "PNRI" for p in partners) else partners[0]["code"]
        p = next(x for x in partners if x["code"] == code)
        before = dict(db.session.execute(select(SourceRecord.id, SourceRecord.cluster_id)).all())
        t = time.perf_counter()
        report = importer.import_export(db.session, objs[code], str(a.folder / p["file"]))
        db.session.commit()
        print(f"re-import of {code} unchanged: {time.perf_counter() - t:.2f} s")
        changed_file = Path(tmp) / f"{code}.changed.mrc"
        chunks = (a.folder / p["file"]).read_bytes().split(b"\x1d")[:-1]
        with open(changed_file, "wb") as outfh:
            for i, chunk in enumerate(chunks):
                raw = chunk + b"\x1d"
                if i % 50 == 0:  # a cataloguer's edit: a note added
                    try:
                        rec = pymarc.Record(data=raw, to_unicode=True, force_utf8=True)
                        rec.add_field(pymarc.Field(tag="500", indicators=[" ", " "],
                                                   subfields=[pymarc.Subfield("a", "Koreksi.")]))
                        raw = rec.as_marc()
                    except Exception:  # noqa: BLE001 - a broken record stays as it was
                        pass
                outfh.write(raw)
        t = time.perf_counter()
        report = importer.import_export(db.session, objs[code], str(changed_file))
        db.session.commit()
        took = time.perf_counter() - t
        after = dict(db.session.execute(select(SourceRecord.id, SourceRecord.cluster_id)).all())
        moved = sum(1 for rid, cid in before.items() if after.get(rid) != cid)
        print(f"re-import of {code} with {report.get('updated', '?')} records changed: "
              f"{took:.2f} s (clustering {report['clusters'].get('cluster_seconds')} s, "
              f"scope {report['clusters'].get('scope')} records); "
              f"{moved} record(s) changed union record id")
        if a.keep:
            print(f"database kept at {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
