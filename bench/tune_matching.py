#!/usr/bin/env python3
"""Tune the matching rules on a generated set without the importer or a database.

Usage: tune_matching.py OUT_DIR [--clusters clusters.csv] [--explain N]

OUT_DIR is a folder made by ../shared/bench/make_exports.py. Reads every
partner's export with pymarc, runs union_catalog.matching (describe, then
cluster), writes CLUSTERS.csv as `catalog clusters --out` does, scores it with
score_clusters.py when that sits beside make_exports.py, and with --explain N
prints up to N false and N missed merges with the facts that decided them.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pymarc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from union_catalog import matching  # noqa: E402

SCORER = Path(__file__).resolve().parents[2] / "shared" / "bench" / "score_clusters.py"


def read_iso2709(path: Path, force_utf8: bool):
    """(ordinal, record or None): split on the record terminator so that one
    broken record costs only itself."""
    data = path.read_bytes()
    for n, chunk in enumerate(data.split(b"\x1d")[:-1] if data.endswith(b"\x1d")
                              else data.split(b"\x1d"), start=1):
        try:
            rec = pymarc.Record(data=chunk + b"\x1d", to_unicode=True, force_utf8=force_utf8,
                                utf8_handling="strict")
        except Exception:  # noqa: BLE001 - a broken record is skipped, by its ordinal
            rec = None
        yield n, rec


def read_partner(folder: Path, row: dict):
    path = folder / row["file"]
    if row["format"] == "marcxml":
        yield from enumerate(pymarc.parse_xml_to_array(str(path)), start=1)
    else:
        yield from read_iso2709(path, force_utf8=row["encoding"] == "utf8")


def load(folder: Path):
    records = []
    for row in csv.DictReader(open(folder / "partners.csv", newline="")):
        for ordinal, rec in read_partner(folder, row):
            if rec is None:
                continue
            f001 = rec.get_fields("001")
            control = f001[0].data.strip() if f001 else ""
            records.append((row["code"], control, ordinal, rec))
    return records


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--clusters", type=Path, default=None)
    ap.add_argument("--explain", type=int, default=0)
    a = ap.parse_args()
    out = a.clusters or a.folder / "clusters.tuned.csv"

    t0 = time.perf_counter()
    raw = load(a.folder)
    t1 = time.perf_counter()
    facts = [matching.describe(rec) for *_, rec in raw]
    t2 = time.perf_counter()
    items = [(i, f"{p} {c or '#' + str(o)}", f)
             for i, ((p, c, o, _), f) in enumerate(zip(raw, facts, strict=True))]
    result = matching.cluster(items)
    t3 = time.perf_counter()
    print(f"records {len(raw)}: read {t1 - t0:.2f}s  describe {t2 - t1:.2f}s  "
          f"cluster {t3 - t2:.2f}s")

    group = result.group_of()
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["partner", "control_number", "ordinal", "cluster_id"])
        for i, (p, c, o, _) in enumerate(raw):
            w.writerow([p, c, o, group[i] + 1])
    if SCORER.exists():
        subprocess.run([sys.executable, str(SCORER), str(a.folder / "truth.csv"), str(out)],
                       check=False)

    if a.explain:
        truth = {}
        for r in csv.DictReader(open(a.folder / "truth.csv", newline="")):
            k = (r["partner"], r["control_number"] or f"#{r['ordinal']}")
            truth[k] = (r["edition_id"], r["kind"])
        edition = {}
        for i, (p, c, o, _) in enumerate(raw):
            edition[i] = truth.get((p, c or f"#{o}"), ("?", "?"))
        keep = ("title_key", "subtitle_key", "authors", "year", "publisher_key", "edition_no",
                "volume", "isbns", "isbns_set", "issns", "format", "pages")

        def show(i):
            f = facts[i]
            return f"  {items[i][1]} {edition[i]} " + " ".join(f"{k}={f.get(k)!r}" for k in keep)

        shown = 0
        for g in result.groups:
            eds = {edition[i][0] for i in g} - {"?"}
            if len(eds) > 1 and shown < a.explain:
                shown += 1
                print("FALSE MERGE:")
                for i in g:
                    print(show(i), "|", result.evidence[i])
        by_ed = defaultdict(set)
        for i in edition:
            if edition[i][0] != "?":
                by_ed[edition[i][0]].add(group[i])
        shown = 0
        for ed, gs in by_ed.items():
            if len(gs) > 1 and shown < a.explain:
                shown += 1
                print("MISSED:")
                for i in edition:
                    if edition[i][0] == ed:
                        print(show(i), "| group", group[i])
    return 0


if __name__ == "__main__":
    sys.exit(main())
