"""Search over a generated network imported with the real importer: the
index is current after the imports alone, with nobody rebuilding it."""
from __future__ import annotations

from sqlalchemy import func, select

from union_catalog.models import Cluster, SearchDoc, SourceRecord

from .test_import_generated import _import_all


def test_imports_keep_the_index_current(runner, make, session, client, exports):
    _import_all(runner, make, exports)
    clusters = session.scalar(select(func.count()).select_from(Cluster).where(
        Cluster.id.in_(select(SourceRecord.cluster_id).where(SourceRecord.withdrawn_at.is_(None)))))
    assert clusters and session.scalar(select(func.count()).select_from(SearchDoc)) == clusters

    # A held edition with an ISBN, found by its ISBN in the other form and by its title.
    cluster = session.scalars(select(Cluster).where(Cluster.member_count > 1)
                              .order_by(Cluster.id)).first()
    from stdnum import isbn

    with_isbn = session.scalars(select(Cluster).where(Cluster.member_count > 1)).all()
    target = next(c for c in with_isbn if any(isbn.is_valid(i) and len(isbn.compact(i)) == 13
                                              and isbn.compact(i).startswith("978")
                                              for i in c.isbns or []))
    number = next(isbn.compact(i) for i in target.isbns if isbn.is_valid(i))
    isbn10 = isbn.format(isbn.to_isbn10(number))
    body = client.get("/api/v1/search", query_string={"q": isbn10}).get_json()
    assert body["results"][0]["id"] == target.id
    body = client.get("/api/v1/search", query_string={"title": target.title}).get_json()
    assert target.id in [r["id"] for r in body["results"]]
    codes = {h["library"] for h in body["results"][0]["holdings"]}
    assert codes, body["results"][0]

    # Facets add up over the whole network.
    body = client.get("/api/v1/search", query_string={"q": cluster.title.split()[0]}).get_json()
    assert body["total"] >= 1 and sum(body["facets"]["language"].values()) == body["total"]

    # A re-import of one partner replaces its holdings; the index follows.
    first = body["results"][0]
    assert client.get(f"/api/v1/records/{first['id']}").status_code == 200


def _index_rows(session) -> dict:
    from sqlalchemy import text

    fts = ("SELECT rowid, title, author, subject, other FROM catalog_fts ORDER BY 1"
           if session.get_bind().dialect.name == "sqlite"
           else "SELECT cluster_id, doc::text FROM catalog_fts ORDER BY 1")
    return {
        "docs": session.execute(text("SELECT * FROM catalog_search_docs ORDER BY cluster_id")).all(),
        "holdings": session.execute(text(
            "SELECT * FROM catalog_search_holdings ORDER BY cluster_id, partner_id")).all(),
        "fts": session.execute(text(fts)).all(),
    }


def test_the_index_imports_build_is_the_one_a_rebuild_makes(runner, make, session, exports):
    """Imports index from the facts clustering just read; a rebuild reads
    everything from the records. Both must give the same index."""
    from union_catalog.search import reindex_all

    _import_all(runner, make, exports)
    session.expire_all()
    built = _index_rows(session)
    assert built["docs"] and built["holdings"] and len(built["fts"]) == len(built["docs"])
    reindex_all(session)
    session.commit()
    assert _index_rows(session) == built


def test_a_reimport_indexes_what_a_rebuild_would(app, make, session, tmp_path):
    """A re-import changes records, their copies and union records: a copy
    goes out on loan, a title changes, a new record joins another library's
    union record, a record is withdrawn. The importer indexes its batch
    before it writes the batch's records and copies (it is told what it
    cannot read back yet); the index must be the one a rebuild makes."""
    from pymarc import Field, Subfield

    from tests.union_catalog.test_matching import rec
    from tests.union_catalog.world import write
    from union_catalog.search import reindex_all

    def held(record, *statuses):
        for n, status in enumerate(statuses):
            record.add_field(Field(tag="952", indicators=[" ", " "], subfields=[
                Subfield("a", "UGM"), Subfield("o", f"297.{n}"), Subfield("p", f"B{id(record)}{n}"),
                *([Subfield("q", "2026-11-01")] if status == "loan" else [])]))
        return record

    make.partner("UGM")
    make.partner("UI")
    make.commit()
    falak = dict(title="Ilmu falak praktis", author="Hambali", isbns=["9786020000011"])
    ugm = [held(rec(control="u1", **falak), "in", "in"),
           held(rec(control="u2", title="Fikih zakat", author="Qardawi"), "in"),
           held(rec(control="u3", title="Sejarah peradaban Islam", author="Yatim"), "in")]
    ui = [rec(control="i1", title="Hukum waris", author="Suparman", isbns=["9789790000014"])]
    cli = app.test_cli_runner()
    for code, records in (("UGM", ugm), ("UI", ui)):
        result = cli.invoke(args=["catalog", "import", "--partner", code,
                                  write(tmp_path / f"{code}.mrc", records)])
        assert result.exit_code == 0, result.output

    again = [held(rec(control="u1", **falak), "in", "loan"),  # a copy out on loan
             held(rec(control="u2", title="Fikih zakat kontemporer", author="Qardawi"), "in"),
             held(rec(control="u4", title="Hukum waris", author="Suparman",
                      isbns=["9789790000014"]), "in")]  # joins UI's union record; u3 withdrawn
    result = cli.invoke(args=["catalog", "import", "--partner", "UGM", "--report",
                              str(tmp_path / "r.json"), write(tmp_path / "UGM2.mrc", again)])
    assert result.exit_code == 0, result.output
    import json

    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["inserted"], report["updated"], report["withdrawn"]) == (1, 2, 1)
    session.expire_all()
    built = _index_rows(session)
    holdings = {(r[0], r[1]): r[2:] for r in built["holdings"]}
    # falak: 2 copies, 1 on the shelf, 1 on loan; UI has no item fields: one
    # copy, availability unknown
    assert sorted(holdings.values()) == [(1, 0, "unknown"), (1, 1, "available"), (1, 1, "available"),
                                         (2, 1, "available on_loan")], holdings
    reindex_all(session)
    session.commit()
    assert _index_rows(session) == built


def test_words_are_written_again_only_when_they_change(app, make, session, tmp_path, monkeypatch):
    """A library's copy of an edition already indexed, catalogued alike,
    changes its holdings but not its words: they are not written to the
    full-text table again. A copy catalogued with other words is."""
    from tests.union_catalog.test_matching import rec
    from tests.union_catalog.world import write
    from union_catalog import search as search_service

    written: list[int] = []
    engine = type(search_service.engine_for(session))
    replace = engine.replace

    def spy(self, conn, rows, dropped):
        written.extend(r.cluster_id for r in rows)
        return replace(self, conn, rows, dropped)

    monkeypatch.setattr(engine, "replace", spy)
    for code in ("UGM", "UI", "UIN"):
        make.partner(code)
    make.commit()
    falak = dict(title="Ilmu falak praktis", author="Hambali", isbns=["9786020000011"])
    cli = app.test_cli_runner()

    def load(code, record):
        result = cli.invoke(args=["catalog", "import", "--partner", code,
                                  write(tmp_path / f"{code}.mrc", [record])])
        assert result.exit_code == 0, result.output
        session.expire_all()
        return session.scalar(select(SourceRecord.cluster_id).where(SourceRecord.control_number == record["001"].data))

    cluster = load("UGM", rec(control="g1", **falak))
    assert written == [cluster]
    written.clear()
    assert load("UI", rec(control="i1", **falak)) == cluster  # the same words
    assert written == []
    assert session.get(SearchDoc, cluster).libraries == 2
    assert load("UIN", rec(control="n1", subtitle="hisab dan rukyat", **falak)) == cluster
    assert written == [cluster]
    assert [r["id"] for r in app.test_client().get("/api/v1/search?q=rukyat").get_json()["results"]] == [cluster]


def test_a_rebuild_mends_words_lost_behind_the_index_back(app, make, session, tmp_path):
    """`catalog reindex` writes every union record's words again, whatever
    the digests kept beside them say."""
    from sqlalchemy import text

    from tests.union_catalog.test_matching import rec
    from tests.union_catalog.world import write

    make.partner("UGM")
    make.commit()
    cli = app.test_cli_runner()
    result = cli.invoke(args=["catalog", "import", "--partner", "UGM",
                              write(tmp_path / "ugm.mrc", [rec(control="g1", title="Ilmu falak praktis")])])
    assert result.exit_code == 0, result.output
    search = lambda: app.test_client().get("/api/v1/search?q=falak").get_json()["total"]  # noqa: E731
    assert search() == 1
    key = "rowid" if session.get_bind().dialect.name == "sqlite" else "cluster_id"
    session.execute(text(f"DELETE FROM catalog_fts WHERE {key} > 0"))
    session.commit()
    assert search() == 0
    result = cli.invoke(args=["catalog", "reindex"])
    assert result.exit_code == 0, result.output
    assert search() == 1
