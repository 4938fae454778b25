"""The quality floor on a generated network: every partner imported through
the command line, `catalog clusters --out`, scored against the known answer
(pair precision >= 0.998, recall >= 0.985, no readable record lost); and a
re-import that changes nothing moves no record to another union record."""
from __future__ import annotations

import csv
from collections import Counter

from sqlalchemy import select

from union_catalog.models import SourceRecord

from .test_import_generated import _import_all


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(truth_path, clusters_path) -> dict:
    def key(r):
        number = (r.get("control_number") or "").strip()
        return (r["partner"], number) if number else (r["partner"], f"#{int(r['ordinal'])}")

    truth = {key(r): r["edition_id"] for r in csv.DictReader(open(truth_path, newline=""))}
    got = {key(r): r["cluster_id"] for r in csv.DictReader(open(clusters_path, newline=""))}
    cells, by_cluster, by_edition = Counter(), Counter(), Counter()
    for i, (k, edition) in enumerate(truth.items()):
        cluster = got.get(k) or f"lost-{i}"
        cells[(cluster, edition)] += 1
        by_cluster[cluster] += 1
        by_edition[edition] += 1
    right = sum(_pairs(n) for n in cells.values())
    predicted = sum(_pairs(n) for n in by_cluster.values())
    actual = sum(_pairs(n) for n in by_edition.values())
    return {"precision": right / predicted if predicted else 1.0,
            "recall": right / actual if actual else 1.0,
            "lost": sum(1 for k in truth if not got.get(k)), "true_pairs": actual}


def test_generated_network_clusters_above_the_floor(runner, make, session, exports, tmp_path):
    _import_all(runner, make, exports)
    out = tmp_path / "clusters.csv"
    result = runner.invoke(args=["catalog", "clusters", "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = score(exports / "truth.csv", out)
    assert figures["true_pairs"] > 1000  # the set really has editions held by many
    assert figures["lost"] == 0
    assert figures["precision"] >= 0.998, figures
    assert figures["recall"] >= 0.985, figures

    before = dict(session.execute(select(SourceRecord.id, SourceRecord.cluster_id)).all())
    _import_all(runner, make, exports)
    session.expire_all()
    after = dict(session.execute(select(SourceRecord.id, SourceRecord.cluster_id)).all())
    assert before == after

    # what seventeen incremental imports built is what clustering everything at once builds
    result = runner.invoke(args=["catalog", "recluster"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    rebuilt = dict(session.execute(select(SourceRecord.id, SourceRecord.cluster_id)).all())
    moved = [rid for rid in before if rebuilt[rid] != before[rid]]
    assert not moved, moved[:10]
