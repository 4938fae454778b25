#!/usr/bin/env python3
"""Latency of union catalogue search: the API (through the Flask test client)
next to the bare full-text query on the same database in the same run.

    bench/search_bench.py --exports OUT            # a folder from make_exports.py
    bench/search_bench.py --editions 100000        # generate one first
    bench/search_bench.py --exports OUT --db postgresql

The exports are loaded with the real importer (``flask catalog import``) when
this checkout has it; otherwise rows are built here from the MARC files,
clustered by the generator's known answer (truth.csv), and indexed with
``union_catalog.search.reindex_clusters`` as an import would.

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A fixed mix: one word, several words, diacritics, an ISBN typed three ways,
# fielded search, filters, and browsing by a facet alone.
QUERIES = [
    {"q": "hukum"},
    {"q": "pengantar ilmu perpustakaan"},
    {"q": "manajemen"},
    {"q": "tafsir al-misbah"},
    {"q": "ihya ulum al-din"},
    {"q": "sejarah peradaban islam"},
    {"q": "metodologi penelitian kualitatif"},
    {"q": "ekonomi pembangunan indonesia"},
    {"q": "introduction to library science"},
    {"q": "jurnal"},
    {"q": "pendidikan islam", "library": "UGM"},
    {"q": "hukum", "year_from": "2000", "year_to": "2010"},
    {"q": "hukum islam", "language": "ind", "library": "UINSU"},
    {"title": "sistem informasi"},
    {"author": "harahap"},
    {"subject": "kelapa sawit"},
    {"q": "perpus*"},
    {"q": "ekonomi", "format": "thesis"},
    {"isbn": "@isbn13"},
    {"q": "@isbn10"},
    {"q": "@isbn13-hyphens"},
    {"library": "PNRI", "year_from": "2015"},
]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# --- loading -------------------------------------------------------------

STATUS = {
    "available": "available",
    "on loan": "on_loan",
    "reference only": "not_for_loan",
    "lost": "lost",
    "damaged": "damaged",
}
FORMAT = {"serial": "serial", "thesis": "thesis"}


def _sub(record, tag, code):
    for f in record.get_fields(tag):
        values = f.get_subfields(code)
        if values:
            return values[0]
    return ""


def _year(record) -> int | None:
    import re

    for tag in ("264", "260"):
        m = re.search(r"(1[5-9]\d\d|20\d\d)", _sub(record, tag, "c"))
        if m:
            return int(m.group(1))
    return None


def _read(path: Path, fmt: str, encoding: str):
    """Each record of a partner's file, None for the unreadable, in file order."""
    import pymarc

    if fmt == "marcxml":
        yield from pymarc.parse_xml_to_array(str(path))
        return
    # One record per terminator, each parsed alone: a broken record must not
    # end the file (the importer proper reports such records; here they are skipped).
    for chunk in path.read_bytes().split(b"\x1d"):
        chunk = chunk.lstrip(b"\r\n")
        if not chunk:
            continue
        try:
            yield pymarc.Record(
                data=chunk + b"\x1d",
                to_unicode=True,
                force_utf8=(encoding != "marc8"),
                utf8_handling="replace",
            )
        except Exception:  # noqa: BLE001 - a defective record counts, and is skipped
            yield None


def build_rows(session, exports: Path) -> int:
    """SourceRecords, Items and Clusters from the exports, clustered by truth.csv."""
    from sqlalchemy import insert, select

    from agreements import partners as partner_service
    from union_catalog.models import Cluster, Item, SourceRecord

    truth = {}
    with open(exports / "truth.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            truth[(row["partner"], int(row["ordinal"]))] = (row["edition_id"], row["kind"])
    items = defaultdict(list)
    with open(exports / "items.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            items[(row["partner"], int(row["ordinal"]))].append(row)
    with open(exports / "partners.csv", newline="") as fh:
        partners = list(csv.DictReader(fh))
    pid = {}
    for p in partners:
        partner, _ = partner_service.upsert(session, p["code"], p["name"])
        session.flush()
        pid[p["code"]] = partner.id

    clusters: dict[str, dict] = {}
    records = []
    for p in partners:
        ordinal = 0
        for rec in _read(
            exports / p["file"],
            "marcxml" if p["file"].endswith(".xml") else "iso2709",
            p["encoding"],
        ):
            ordinal += 1
            if rec is None or rec.get("245") is None:
                continue
            edition, kind = truth.get((p["code"], ordinal), (None, "book"))
            if edition is None:
                continue
            title = " ".join(rec["245"].get_subfields("a", "b", "n")).strip(" /:")
            author = _sub(rec, "100", "a").strip(" ,.")
            isbns = [f.get_subfields("a")[0] for f in rec.get_fields("020") if f.get_subfields("a")]
            issns = [f.get_subfields("a")[0] for f in rec.get_fields("022") if f.get_subfields("a")]
            subjects = [f.get_subfields("a")[0] for f in rec.get_fields("650") if f.get_subfields("a")]
            lang = _sub(rec, "041", "a") or "ind"
            lang = {"id": "ind", "en": "eng", "ar": "ara"}.get(lang, lang)
            year = _year(rec)
            c = clusters.setdefault(
                edition,
                {
                    "title": title,
                    "author": author,
                    "year": year,
                    "publisher": _sub(rec, "264", "b") or _sub(rec, "260", "b"),
                    "language": lang[:3],
                    "format": FORMAT.get(kind, "book"),
                    "isbns": [],
                    "issns": [],
                    "member_count": 0,
                },
            )
            c["member_count"] += 1
            for i in isbns:
                if i not in c["isbns"]:
                    c["isbns"].append(i)
            for i in issns:
                if i not in c["issns"]:
                    c["issns"].append(i)
            control = rec["001"].data if rec.get("001") else None
            records.append(
                {
                    "partner_id": pid[p["code"]],
                    "record_key": control or f"ord-{ordinal}",
                    "control_number": control,
                    "ordinal": ordinal,
                    "content_hash": str(ordinal),
                    "marc": rec.as_dict(),
                    "title": title,
                    "author": author,
                    "year": year,
                    "isbns": isbns,
                    "issns": issns,
                    "match_data": {"subjects": subjects},
                    "_edition": edition,
                    "_code": p["code"],
                }
            )
    cluster_rows = list(clusters.items())
    session.execute(insert(Cluster), [c for _, c in cluster_rows])
    ids = dict(
        zip(
            [e for e, _ in cluster_rows],
            session.scalars(select(Cluster.id).order_by(Cluster.id)),
            strict=True,
        )
    )
    for r in records:
        r["cluster_id"] = ids[r.pop("_edition")]
    for i in range(0, len(records), 2000):
        chunk = records[i : i + 2000]
        codes = [r.pop("_code") for r in chunk]
        session.execute(insert(SourceRecord), chunk)
        for r, code in zip(chunk, codes, strict=True):
            r["_code"] = code
    rid = {
        (p, o): i for i, p, o in session.execute(select(SourceRecord.id, SourceRecord.partner_id, SourceRecord.ordinal))
    }
    item_rows = []
    for r in records:
        for it in items.get((r["_code"], r["ordinal"]), []):
            item_rows.append(
                {
                    "source_record_id": rid[(r["partner_id"], r["ordinal"])],
                    "partner_id": r["partner_id"],
                    "barcode": it["barcode"],
                    "call_number": it["call_number"],
                    "status": STATUS.get(it["status"], "unknown"),
                    "source": "952",
                }
            )
    for i in range(0, len(item_rows), 5000):
        session.execute(insert(Item), item_rows[i : i + 5000])
    return len(records)


def import_with_importer(runner, exports: Path) -> bool:
    """Through the contract's CLI, when this checkout has the importer."""
    app = runner.app
    group = app.cli.commands.get("catalog")
    if group is None or "import" not in getattr(group, "commands", {}):
        return False
    with open(exports / "partners.csv", newline="") as fh:
        partners = list(csv.DictReader(fh))
    from agreements import partners as partner_service
    from ill.extensions import db

    with app.app_context():
        for p in partners:
            partner_service.upsert(db.session, p["code"], p["name"])
        db.session.commit()
    for p in partners:
        args = ["catalog", "import", "--partner", p["code"], str(exports / p["file"])]
        if p.get("items_file"):
            args += ["--items", str(exports / p["items_file"])]
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"import of {p['code']} failed: {result.output}")
    return True


def add_agreements(runner, home: str) -> str:
    """The patron's library's agreements, as a network has them (unless the
    database has some): with most partners for loans and copies, with every
    fourth for copies alone, and with every fifth one that has expired, so
    that a patron's search weighs real agreements. Through the contract's
    CLI (``flask agreements add``)."""
    from sqlalchemy import func, select

    from agreements.models import Agreement, Partner
    from ill.extensions import db

    with runner.app.app_context():
        if db.session.scalar(select(func.count()).select_from(Agreement)):
            return "as the database has them"
        codes = [c for c in db.session.scalars(select(Partner.code).order_by(Partner.code)) if c != home]
    kinds = []
    for i, code in enumerate(codes, start=1):
        args = ["agreements", "add", home, code]
        if i % 5 == 0:
            args += ["--start", "2019-01-01", "--years", "3", "--service", "loan", "--service", "copy"]
            kinds.append("expired")
        elif i % 4 == 0:
            args += ["--start", "2024-01-01", "--years", "5", "--service", "copy"]
            kinds.append("copies")
        else:
            args += ["--start", "2024-01-01", "--years", "5", "--service", "loan", "--service", "copy"]
            kinds.append("loans and copies")
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"agreements add {home} {code} failed: {result.output}")
    return ", ".join(f"{kinds.count(k)} {k}" for k in ("loans and copies", "copies", "expired"))


# --- measuring -------------------------------------------------------------


def resolve(query: dict, sample_isbn: str) -> dict:
    from stdnum import isbn

    out = {}
    for k, v in query.items():
        if v == "@isbn13":
            v = sample_isbn
        elif v == "@isbn10":
            v = isbn.format(isbn.to_isbn10(sample_isbn))
        elif v == "@isbn13-hyphens":
            v = isbn.format(sample_isbn)
        out[k] = v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exports", type=Path, help="a folder made by make_exports.py")
    ap.add_argument("--editions", type=int, help="generate a set of this many editions first")
    ap.add_argument("--make-exports", type=Path, default=ROOT.parent / "shared" / "bench" / "make_exports.py")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--pg-admin-url",
        default=os.environ.get("ILL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    ap.add_argument(
        "--clock",
        choices=["wall", "cpu", "cpu+server"],
        default="wall",
        help="wall time, or this process's CPU time (SQLite on a busy machine), or that plus the CPU "
        "time of the PostgreSQL backends serving the bench's database (a server on this machine only)",
    )
    ap.add_argument(
        "--database-url", help="an existing database to use (reused when it holds a catalogue)"
    )
    ap.add_argument("--repeat", type=int, default=15, help="runs of each query")
    ap.add_argument("--keep", type=Path, help="keep the SQLite database at this path (reused when it exists)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="search-bench-"))
    exports = args.exports
    if exports is None:
        exports = tmp / "exports"
        cmd = [sys.executable, str(args.make_exports), str(exports)]
        if args.editions:
            cmd += ["--editions", str(args.editions)]
        subprocess.run(cmd, check=True)

    pg_name = None
    if args.database_url:
        url = args.database_url
    elif args.db == "postgresql":
        import psycopg

        pg_name = "ill_bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        url = args.pg_admin_url.rsplit("/", 1)[0] + "/" + pg_name
    else:
        path = args.keep or tmp / "bench.sqlite3"
        url = f"sqlite:///{path}"

    try:
        run(args, exports, url, tmp)
    finally:
        if pg_name:
            import psycopg

            with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def run(args, exports: Path, url: str, tmp: Path) -> None:
    from sqlalchemy import func, select

    from agreements import partners as partner_service
    from ill import accounts, create_app, schema_extras
    from ill.extensions import db
    from union_catalog import search as search_service
    from union_catalog.models import Cluster, SearchDoc, SourceRecord
    from union_catalog.searchtext import isbn13

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "DATA_DIR": str(tmp / "data"),
            "MAIL_BACKEND": "memory",
        }
    )
    with app.app_context():
        db.create_all()
        schema_extras.create_all(db.session)
        db.session.commit()
    runner = app.test_cli_runner()
    t0 = time.perf_counter()
    how = "importer (flask catalog import)"
    with app.app_context():
        reused = bool(db.session.scalar(select(func.count()).select_from(Cluster)))
    if reused:
        how = f"reused {url}"
    elif not import_with_importer(runner, exports):
        how = "rows built by the bench, clustered by truth.csv"
        with app.app_context():
            build_rows(db.session, exports)
            db.session.commit()
    load_s = time.perf_counter() - t0
    with app.app_context():
        t1 = time.perf_counter()
        if not db.session.scalar(select(func.count()).select_from(SearchDoc)):
            how += "; indexed by reindex_all"
            search_service.reindex_all(db.session)
            db.session.commit()
        index_s = time.perf_counter() - t1
        n_clusters = db.session.scalar(select(func.count()).select_from(Cluster))
        n_records = db.session.scalar(select(func.count()).select_from(SourceRecord))
        sample_isbn = next(
            isbn13(t)
            for isbns in db.session.scalars(select(Cluster.isbns).where(Cluster.member_count > 2))
            for t in (isbns or [])
            if isbn13(t)
        )
        patron = accounts.find_user(db.session, "bench-patron@example.org") or accounts.create_user(
            db.session,
            "bench-patron@example.org",
            "bench-password",
            "patron",
            partner_service.by_code(db.session, "UINSU"),
        )
        token = accounts.issue_token(db.session, patron)
        db.session.commit()
    agreements = add_agreements(runner, "UINSU")

    print(f"database: {url.split('://')[0]}")
    print(f"agreements of the patron's library: {agreements}")
    print(f"data: {exports}  loaded by: {how}")
    print(
        f"records: {n_records}  union records: {n_clusters}  load: {load_s:.1f} s  "
        f"index (when not by the importer): {index_s:.1f} s"
    )

    client = app.test_client()
    # CPU time of this process leaves out the wait for a busy machine's CPU;
    # it holds the whole work only on SQLite (PostgreSQL works in its server).
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.clock == "cpu+server":
        clock = _cpu_and_server_clock(url)
    print(f"clock: {args.clock}")
    queries = [resolve(q, sample_isbn) for q in QUERIES]
    results = {}
    with app.app_context():
        for who, headers in (("visitor", {}), ("patron", {"Authorization": f"Bearer {token}"})):
            for q in queries:  # warm caches once
                client.get("/api/v1/search", query_string=q, headers=headers)
            api_all, bare_all, ranked_all = [], [], []
            rows = []
            for q in queries:
                api, bare, ranked = [], [], []
                plan = search_service.plan(search_service.parse_query(_Args(q)))
                engine = search_service.engine_for(db.session)
                for _ in range(args.repeat):
                    t = clock()
                    resp = client.get("/api/v1/search", query_string=q, headers=headers)
                    api.append((clock() - t) * 1000)
                    assert resp.status_code == 200, resp.get_json()
                    if plan.terms:
                        t = clock()
                        db.session.execute(engine.bare(plan.terms)).fetchall()
                        bare.append((clock() - t) * 1000)
                        t = clock()
                        db.session.execute(engine.bare_ranked(plan.terms)).fetchall()
                        ranked.append((clock() - t) * 1000)
                        db.session.rollback()
                total = resp.get_json()["total"]
                api_all += api
                bare_all += bare
                ranked_all += ranked
                rows.append(
                    (
                        q,
                        total,
                        statistics.median(api),
                        percentile(api, 0.95),
                        statistics.median(bare) if bare else None,
                        statistics.median(ranked) if ranked else None,
                    )
                )
            results[who] = (rows, api_all, bare_all, ranked_all)
        # An extra figure, not part of the ratio: the cheapest answer the API
        # gives through the same test client (a 404 under /api/v1), the
        # floor under any search however little its database work.
        floor = []
        for _ in range(args.repeat * 10):
            t = clock()
            client.get("/api/v1/no-such-thing")
            floor.append((clock() - t) * 1000)
        browsing = browse_figures(client, clock, args.repeat)

    for who, (rows, api_all, bare_all, ranked_all) in results.items():
        print()
        print(f"== as a {who} ({args.repeat} runs of each of {len(rows)} queries; times in ms)")
        print(
            f"{'query':<50} {'hits':>6} {'api p50':>8} {'api p95':>8} "
            f"{'match p50':>9} {'ranked p50':>10} {'api/ranked':>10}"
        )
        for q, total, p50, p95, bare, ranked in rows:
            label = " ".join(f"{k}={v}" for k, v in q.items())[:50]
            fmt = lambda v: f"{v:.1f}" if v is not None else "-"  # noqa: E731
            ratio = f"{p50 / ranked:.1f}x" if ranked else "-"
            print(f"{label:<50} {total:>6} {p50:>8.1f} {p95:>8.1f} {fmt(bare):>9} {fmt(ranked):>10} {ratio:>10}")
        text_rows = [r for r in rows if r[4] is not None]
        print(
            f"API, all queries:                  p50 {statistics.median(api_all):6.1f}  "
            f"p95 {percentile(api_all, 0.95):6.1f}"
        )
        api_text = [r[2] for r in text_rows]
        print(
            f"bare match (ids only), text ones:  p50 {statistics.median(bare_all):6.1f}  "
            f"p95 {percentile(bare_all, 0.95):6.1f}"
        )
        print(
            f"bare ranked page, text ones:       p50 {statistics.median(ranked_all):6.1f}  "
            f"p95 {percentile(ranked_all, 0.95):6.1f}"
        )
        print(
            "API / bare ranked page, text queries: median of per-query ratios "
            f"{statistics.median([r[2] / r[5] for r in text_rows]):.1f}x; "
            f"sum of p50s {sum(api_text):.0f} vs {sum(r[5] for r in text_rows):.0f} "
            f"= {sum(api_text) / sum(r[5] for r in text_rows):.1f}x"
        )
    print()
    print(
        f"(extra) HTTP floor, a 404 under /api/v1 through the same test client: p50 {statistics.median(floor):.2f} ms"
    )
    print()
    print(f"(extra) browsing headings, as a visitor ({args.repeat} runs of each; times in ms)")
    for label, hits, p50, p95 in browsing:
        print(f"{label:<60} {hits:>6} p50 {p50:6.1f}  p95 {p95:6.1f}")


def browse_figures(client, clock, repeat: int) -> list[tuple[str, int, float, float]]:
    """Pages of headings from a few places, and the search for the union
    records under the heading with the most of them (of each kind): not
    part of the ratio (no bare query answers them)."""
    asked = [("author", ""), ("author", "m"), ("author", "shihab"), ("subject", ""),
             ("subject", "islam"), ("subject", "tafsir")]
    out = []
    biggest = {}
    for kind, start in asked:
        times = []
        for _ in range(repeat):
            t = clock()
            resp = client.get(f"/api/v1/browse/{kind}", query_string={"from": start})
            times.append((clock() - t) * 1000)
            assert resp.status_code == 200, resp.get_json()
        found = resp.get_json()["headings"]
        for h in found:
            if h["records"] > biggest.get(kind, {"records": 0})["records"]:
                biggest[kind] = h
        out.append((f"GET /browse/{kind}?from={start}", len(found), statistics.median(times),
                    percentile(times, 0.95)))
    for kind, h in biggest.items():
        times = []
        for _ in range(repeat):
            t = clock()
            resp = client.get(h["search"])
            times.append((clock() - t) * 1000)
            assert resp.status_code == 200, resp.get_json()
        out.append((f"search {kind}_heading={h['heading']}"[:60], resp.get_json()["total"],
                    statistics.median(times), percentile(times, 0.95)))
    return out


def _cpu_and_server_clock(url: str):
    """This process's CPU time plus that of the PostgreSQL backends serving
    the database of ``url`` (read from /proc: a server on this machine), so
    that the database's work counts on a busy machine as SQLite's does."""
    if not url.startswith("postgresql"):
        return time.process_time
    name = url.rsplit("/", 1)[1].split("?")[0]

    def backends() -> list[str]:
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    title = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {name} " in title:
                found.append(pid)
        return found

    cache: dict[str, list[str]] = {}

    def server_seconds() -> float:
        total = 0.0
        for pid in cache.setdefault("pids", backends()):
            try:
                with open(f"/proc/{pid}/schedstat") as fh:
                    total += int(fh.read().split()[0]) / 1e9
            except OSError:  # a backend gone: look again next time
                cache.pop("pids", None)
        return total

    if not backends():
        raise SystemExit("--clock cpu+server: no PostgreSQL backend of this database found in /proc")
    return lambda: time.process_time() + server_seconds()


class _Args(dict):
    def getlist(self, name):
        value = self.get(name)
        return [] if value is None else [value]


if __name__ == "__main__":
    main()
