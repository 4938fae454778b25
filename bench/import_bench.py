#!/usr/bin/env python3
"""How fast partner exports import, against pymarc's bare parse of the same files.

Generates a set with ../shared/bench/make_exports.py (default options: 17
partners, ~57,000 records) into a temporary folder, parses every file with
pymarc alone (MARCReader / parse_xml_to_array), then imports every partner on
SQLite and, if reachable, on PostgreSQL, and prints records per second and
the ratio of the import's time to the bare parse: the mean of the parses
timed just before and just after that import, since the machine's speed
drifts. CPU time counts the importer's reader processes too, not the
database server.

    python bench/import_bench.py [--editions N] [--exports DIR] [--pg URL] [--runs N]
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_exports(out: Path, editions: int | None) -> None:
    script = ROOT.parent / "shared" / "bench" / "make_exports.py"
    if not script.exists():
        sys.exit(f"{script} not found: run this beside ../shared")
    args = [sys.executable, str(script), str(out)]
    if editions:
        args += ["--editions", str(editions)]
    print(subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip())


def partners(folder: Path) -> list[dict]:
    with open(folder / "partners.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def bare_parse(folder: Path, rows: list[dict]) -> tuple[float, int, int, float]:
    """pymarc alone, as one would read these files with it: parse_xml_to_array
    for MARCXML; for ISO 2709 each record up to its terminator into
    pymarc.Record, since pymarc's MARCReader stops at the first record whose
    leader length is wrong and drops the rest of the file (counted apart)."""
    import gc

    import pymarc

    n = stopped = 0
    # The bench's own heap (the application, the caches an import leaves) is
    # set aside first, as the importer sets aside the heap it starts with:
    # else the cycle collector walks it all through pymarc's parse, which
    # then took 6.8 s after an import against 6.0 s in a fresh process
    # (2026-12-06), and every ratio after the first import looked better
    # than it was.
    gc.freeze()
    t, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in rows:
            path = folder / p["file"]
            if p["format"] == "marcxml":
                n += len(pymarc.parse_xml_to_array(str(path)))
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            for chunk in data.split(b"\x1d"):
                if not chunk.strip():
                    continue
                try:
                    pymarc.Record(chunk + b"\x1d", utf8_handling="replace", hide_utf8_warnings=True)
                    n += 1
                except Exception:  # noqa: BLE001 - a broken record, as pymarc sees it
                    pass
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    gc.unfreeze()
    for p in rows:
        if p["format"] != "marcxml":
            with open(folder / p["file"], "rb") as fh:
                stopped += sum(1 for r in pymarc.MARCReader(fh, hide_utf8_warnings=True,
                                                            utf8_handling="replace") if r is not None)
        else:
            stopped += len(pymarc.parse_xml_to_array(str(folder / p["file"])))
    return elapsed, n, stopped, cpu


def reader_only(folder: Path, rows: list[dict]) -> tuple[float, int]:
    import gc

    from union_catalog import marc

    n = 0
    gc.freeze()  # as in bare_parse
    t = time.perf_counter()
    for p in rows:
        with open(folder / p["file"], "rb") as fh:
            _fmt, records = marc.open_records(fh)
            n += sum(1 for r in records if r.usable)
    elapsed = time.perf_counter() - t
    gc.unfreeze()
    return elapsed, n


def _children_cpu() -> float:
    """CPU time of the finished child processes (the importer's readers)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_all(url: str, folder: Path, rows: list[dict], again: bool = True
               ) -> tuple[float, int, float, float]:
    """Every partner imported into an empty catalogue at url; then, with
    again, the same exports once more (nothing changes). (seconds, records,
    seconds again, CPU seconds)."""
    from sqlalchemy import text

    from agreements import partners as partner_service
    from ill import create_app
    from ill.extensions import db
    from union_catalog import importer, search

    if url.startswith("sqlite:///"):  # every run starts from an empty catalogue
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        from ill import schema_extras

        schema_extras.create_all(db.session)
        db.session.commit()
        for p in rows:
            partner_service.upsert(db.session, p["code"], p["name"])
        db.session.commit()
        n = 0
        t, cpu = time.perf_counter(), time.process_time() + _children_cpu()
        for p in rows:
            partner = partner_service.by_code(db.session, p["code"])
            items = str(folder / p["items_file"]) if p["items_file"] else None
            report = importer.import_export(db.session, partner, str(folder / p["file"]),
                                            items_path=items)
            db.session.commit()
            search.upkeep_after_commit(db.session, report["clusters"]["touched"])  # as jobs.execute
            n += report["imported"]
        elapsed, cpu = time.perf_counter() - t, time.process_time() + _children_cpu() - cpu
        t = time.perf_counter()
        for p in rows if again else ():  # the same exports again: nothing changes
            partner = partner_service.by_code(db.session, p["code"])
            items = str(folder / p["items_file"]) if p["items_file"] else None
            report = importer.import_export(db.session, partner, str(folder / p["file"]), items_path=items)
            db.session.commit()
            search.upkeep_after_commit(db.session, report["clusters"]["touched"])
        again = time.perf_counter() - t
        db.session.remove()
        db.engine.dispose()
    return elapsed, n, again, cpu


PEAK_RSS = r"""
import resource, sys

def peak_kb():
    # VmHWM, not ru_maxrss: a process started from a large one inherits its
    # ru_maxrss (the bench has imported everything twice by now)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))

sys.path.insert(0, sys.argv[1])
from ill import create_app
from ill.extensions import db
from agreements import partners as ps
from union_catalog import importer
app = create_app({"DATABASE_URL": sys.argv[2], "SECRET_KEY": "bench", "TESTING": True})
with app.app_context():
    db.create_all()
    from ill import schema_extras
    schema_extras.create_all(db.session)
    partner, _ = ps.upsert(db.session, sys.argv[4], sys.argv[4])
    db.session.commit()
    before = peak_kb()
    report = importer.import_export(db.session, partner, sys.argv[3])
    db.session.commit()
    print(report["imported"], before, peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_memory(folder: Path, rows: list[dict], tmp: str) -> None:
    """Peak memory of importing the largest partner file, against a file a
    tenth its size of the same partner: flat when it barely grows."""
    small = Path(tmp) / "small"
    big_row = max((p for p in rows if p["format"] == "iso2709"),
                  key=lambda p: (folder / p["file"]).stat().st_size)
    n_small = max(200, int(sum(1 for _ in open(folder / "truth.csv")) / 30))
    make_exports(small, n_small)
    for label, path in (("small", small / big_row["file"]), ("large", folder / big_row["file"])):
        db = Path(tmp) / f"mem-{label}.sqlite3"
        out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(ROOT), f"sqlite:///{db}", str(path),
                              big_row["code"]],
                             capture_output=True, text=True, check=True).stdout.split()
        n, before, peak, reader = (int(x) for x in out[-4:])
        print(f"memory, {big_row['code']} {label:<5} {path.stat().st_size / 1e6:6.1f} MB {n:6d} records: "
              f"peak RSS {peak / 1024:6.1f} MB (before the import {before / 1024:6.1f} MB; "
              f"its reader process {reader / 1024:6.1f} MB, pages shared with the importer included)")


def pg_url(explicit: str | None) -> str | None:
    url = explicit or os.environ.get("ILL_BENCH_PG")
    if url:
        return url
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute("DROP DATABASE IF EXISTS ill_import_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE ill_import_bench")
        return "postgresql+psycopg://postgres@127.0.0.1:5432/ill_import_bench"
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not reachable ({exc}); SQLite only.")
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--editions", type=int, default=None, help="passed to make_exports.py")
    ap.add_argument("--exports", type=Path, help="use this generated folder instead")
    ap.add_argument("--pg", help="PostgreSQL URL (default: a database on 127.0.0.1:5432)")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--runs", type=int, default=1,
                    help="import every partner this many times on each database, each run "
                         "weighed against the bare parses either side of it; prints the median ratio")
    ap.add_argument("--memory", action="store_true",
                    help="also measure peak memory on a large and a small file")
    a = ap.parse_args()
    logging.disable(logging.WARNING)  # pymarc logs every odd indicator it meets
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        folder = a.exports or Path(tmp) / "exports"
        if not a.exports:
            make_exports(folder, a.editions)
        rows = partners(folder)
        size = sum((folder / p["file"]).stat().st_size for p in rows)
        print(f"{len(rows)} partner files, {size / 1e6:.1f} MB")
        bare, n_bare, n_reader, bare_cpu = bare_parse(folder, rows)
        print(f"pymarc bare parse:     {n_bare:7d} records {bare:7.2f} s {n_bare / bare:9.0f} rec/s"
              f"  (CPU {bare_cpu:.2f} s; pymarc's MARCReader alone keeps {n_reader}: "
              "it stops at a bad leader length)")
        own, n_own = reader_only(folder, rows)
        print(f"our reader alone:      {n_own:7d} records {own:7.2f} s {n_own / own:9.0f} rec/s"
              f"  ratio {own / bare:.2f}x")
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        url = None if a.no_pg else pg_url(a.pg)
        if url:
            targets.append(("PostgreSQL", url))
        ratios: dict[str, list[float]] = {name: [] for name, _t in targets}
        for run in range(a.runs):
            if a.runs > 1:
                print(f"-- run {run + 1} of {a.runs}")
            for name, target in targets:
                secs, n, again, cpu = import_all(target, folder, rows)
                # the bare parse again right after: the machine's speed drifts, so
                # each import is weighed against the parses on either side of it
                after, _n, _r, after_cpu = bare_parse(folder, rows)
                base, base_cpu = (bare + after) / 2, (bare_cpu + after_cpu) / 2
                ratios[name].append(secs / base)
                print(f"import on {name:<11} {n:7d} records {secs:7.2f} s {n / secs:9.0f} rec/s"
                      f"  ratio {secs / base:.2f}x pymarc's bare parse ({bare:.2f} s before, "
                      f"{after:.2f} s after)")
                # CPU of this process and its reader processes (not the database
                # server's): steadier on a busy machine
                print(f"  CPU time:            {cpu:7.2f} s  ratio {cpu / base_cpu:.2f}x the bare "
                      f"parse's {base_cpu:.2f} s CPU")
                print(f"  again, unchanged:    {n:7d} records {again:7.2f} s {n / again:9.0f} rec/s"
                      f"  ratio {again / base:.2f}x")
                bare, bare_cpu = after, after_cpu
        if a.runs > 1:
            for name, values in ratios.items():
                print(f"{name}: ratio over {len(values)} runs: median {statistics.median(values):.2f}x, "
                      f"{min(values):.2f}x to {max(values):.2f}x")
        if a.memory:
            peak_memory(folder, rows, tmp)


if __name__ == "__main__":
    main()
