"""The derived tables (match keys, the search index) have no foreign keys
(see union_catalog.models): what they point to must still be there, live,
after imports, withdrawals, changes, merges and splits, on both databases."""
from __future__ import annotations

from sqlalchemy import text

from tests.factories import bearer
from union_catalog.search_schema import FTS_TABLE

from .test_matching import ISBN, ISBN_OTHER
from .world import book

FTS_ID = {"sqlite": "rowid", "postgresql": "cluster_id"}

STRAYS = {
    "keys of a record that is gone or withdrawn":
        "SELECT k.source_record_id FROM match_keys k LEFT JOIN source_records r "
        "ON r.id = k.source_record_id WHERE r.id IS NULL OR r.withdrawn_at IS NOT NULL",
    "search documents of a union record that is gone, empty or merged":
        "SELECT d.cluster_id FROM catalog_search_docs d LEFT JOIN clusters c ON c.id = d.cluster_id "
        "WHERE c.id IS NULL OR c.member_count = 0 OR c.merged_into_id IS NOT NULL",
    "holdings of a library with no live record in that union record":
        "SELECT h.cluster_id FROM catalog_search_holdings h WHERE NOT EXISTS (SELECT 1 FROM "
        "source_records r WHERE r.cluster_id = h.cluster_id AND r.partner_id = h.partner_id "
        "AND r.withdrawn_at IS NULL)",
    "words of a union record without a search document":
        "SELECT f.{fts_id} FROM " + FTS_TABLE + " f WHERE NOT EXISTS (SELECT 1 FROM "
        "catalog_search_docs d WHERE d.cluster_id = f.{fts_id})",
    "headings of a union record without a search document":
        "SELECT h.cluster_id FROM catalog_search_headings h WHERE NOT EXISTS (SELECT 1 FROM "
        "catalog_search_docs d WHERE d.cluster_id = h.cluster_id)",
    "live union records missing from the index":
        "SELECT c.id FROM clusters c WHERE c.member_count > 0 AND c.merged_into_id IS NULL AND "
        "NOT EXISTS (SELECT 1 FROM catalog_search_docs d WHERE d.cluster_id = c.id)",
}


def strays(session) -> dict[str, list]:
    fts_id = FTS_ID[session.get_bind().dialect.name]
    found = {what: session.execute(text(sql.format(fts_id=fts_id))).scalars().all()
             for what, sql in STRAYS.items()}
    return {what: ids for what, ids in found.items() if ids}


def results(client, q: str) -> dict[int, list[str]]:
    """Search's answer: union record id -> the libraries its result row names."""
    resp = client.get("/api/v1/search", query_string={"q": q})
    assert resp.status_code == 200, resp.get_json()
    return {r["id"]: [h["library"] for h in r["holdings"]] for r in resp.get_json()["results"]}


def test_the_derived_tables_point_only_at_live_rows(world, make, client):
    tafsir = book("p1", isbns=[ISBN], title="Tafsir al-Misbah", author="Shihab, M. Quraish")
    medan = book("p2", title="Sejarah kota Medan", author="Sinar, Tengku Luckman")
    pengantar = dict(title="Pengantar ilmu perpustakaan", author="Sutarno")
    zakat = book("u2", isbns=[ISBN_OTHER], title="Fikih zakat", author="Qardhawi, Yusuf")
    world.load("PNRI", tafsir, medan, book("p3", **pengantar))
    world.load("UGM", book("u1", isbns=[ISBN], title="Tafsir al-Misbah", author="Shihab, M. Quraish"),
               zakat)
    assert strays(world.session) == {}
    assert results(client, "tafsir al misbah") == {world.cluster_of("PNRI", "p1"): ["PNRI", "UGM"]}
    # p2 leaves the export, p3 changes
    world.load("PNRI", tafsir, book("p3", note="Hadiah", **pengantar))
    assert world.record("PNRI", "p2").withdrawn_at is not None
    assert strays(world.session) == {}
    assert results(client, "sejarah kota medan") == {}
    # a coordinator merges two union records, then splits them again
    token = make.token(make.user("coordinator"))
    make.commit()
    old, young = sorted({world.cluster_of("PNRI", "p3"), world.cluster_of("UGM", "u2")})
    resp = client.post(f"/api/v1/records/{young}/merge", json={"other": old}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    assert strays(world.session) == {}
    # search knows at once: one union record, held by both libraries
    assert results(client, "fikih zakat") == results(client, "pengantar ilmu perpustakaan") \
        == {old: ["PNRI", "UGM"]}
    moving = world.record("UGM", "u2").id
    resp = client.post(f"/api/v1/records/{old}/split", json={"record_ids": [moving]},
                       headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    assert strays(world.session) == {}
    apart = world.cluster_of("UGM", "u2")
    assert apart != old
    assert results(client, "fikih zakat") == {apart: ["UGM"]}
    assert results(client, "pengantar ilmu perpustakaan") == {old: ["PNRI"]}
    # a library's whole export withdrawn but one record
    world.load("UGM", zakat)
    assert strays(world.session) == {}
    assert results(client, "tafsir al misbah") == {world.cluster_of("PNRI", "p1"): ["PNRI"]}
    # the headings kept step by step are those a rebuild writes
    from union_catalog import search

    filed = text("SELECT kind, filing, cluster_id, heading FROM catalog_search_headings ORDER BY 1, 2, 3")
    kept = world.session.execute(filed).all()
    assert ("author", "qardhawi yusuf", world.cluster_of("UGM", "u2"), "Qardhawi, Yusuf") in kept
    search.reindex_all(world.session)
    assert world.session.execute(filed).all() == kept
    world.session.rollback()


def test_strays_are_found(world):  # the check above can fail
    world.load("PNRI", book("p1", isbns=[ISBN]))
    session = world.session
    session.execute(text("INSERT INTO match_keys (key_hash, source_record_id) VALUES (1, 999999)"))
    session.execute(text("UPDATE clusters SET merged_into_id = id"))
    session.execute(text("INSERT INTO catalog_search_headings (kind, filing, cluster_id, heading) "
                         "VALUES ('author', 'x', 999999, 'X')"))
    assert set(strays(session)) == {"keys of a record that is gone or withdrawn",
                                    "search documents of a union record that is gone, empty or merged",
                                    "headings of a union record without a search document"}
    session.rollback()
