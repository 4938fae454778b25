"""The migrations build the schema on empty SQLite and PostgreSQL databases,
and what they build is what the models say."""
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, bindparam

from ill import create_app, schema_extras
from ill.extensions import db


def _diff(app):
    with app.app_context():
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": schema_extras.include_object})
            return compare_metadata(ctx, db.metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    name, url = server.create_database()
    yield url
    server.drop(name)


def test_migrations_match_the_models(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
    assert _diff(app) == []


def test_migrations_go_down_and_up_again(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    assert _diff(app) == []


def _fts_index(url: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT c.relname, c.reloptions, pg_get_indexdef(c.oid) FROM pg_class c "
                "JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE i.indrelid = 'catalog_fts'::regclass ORDER BY c.relname"))]
    finally:
        engine.dispose()


@pytest.fixture
def migrated_and_made(pg_server):
    """Two PostgreSQL databases: one built by the migrations, one as the
    tests build theirs (the models and the full-text table); their URLs."""
    migrated_name, migrated = pg_server.create_database()
    made_name, made = pg_server.create_database()
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": migrated})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": made})
        with app.app_context():
            db.create_all()
            schema_extras.create_all(db.session)
            db.session.commit()
            db.engine.dispose()
        yield migrated, made
    finally:
        pg_server.drop(migrated_name)
        pg_server.drop(made_name)


def test_the_full_text_index_is_the_same_migrated_or_made_for_the_tests(migrated_and_made):
    """The full-text table has no model: its DDL lives twice, in the migrations
    and in union_catalog.search_schema. Both must build the same thing."""
    migrated, made = migrated_and_made
    assert _fts_index(migrated) == _fts_index(made)
    assert any("fastupdate=on" in (opts or []) for _n, opts, _d in _fts_index(made))


def _imported(database: str, tmp_path, records):
    """An app on the migrated database, with UGM's export of these records imported."""
    from agreements import partners as partner_service
    from tests.union_catalog.world import write

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database,
                      "DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade()
        partner_service.upsert(db.session, "UGM", "UGM")
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["catalog", "import", "--partner", "UGM",
                                                    write(tmp_path / "ugm.mrc", records)])
        assert result.exit_code == 0, result.output
        db.session.remove()
    return app


def test_the_search_index_migration_fills_what_a_reindex_writes(empty_database, tmp_path):
    """0007 adds the statuses of each library's copies and each union
    record's holders to the search index, and fills them as the index itself
    would."""
    from pymarc import Field, Subfield
    from sqlalchemy import text

    from tests.union_catalog.test_matching import rec

    def held(record, *statuses):
        for n, status in enumerate(statuses):
            record.add_field(Field(tag="952", indicators=[" ", " "], subfields=[
                Subfield("a", "UGM"), Subfield("p", f"B{id(record)}{n}"),
                *([Subfield("q", "2026-11-01")] if status == "loan" else []),
                *([Subfield("7", "1")] if status == "reference" else [])]))
        return record

    records = [held(rec(control="u1", title="Ilmu falak praktis", author="Hambali"), "in", "loan"),
               held(rec(control="u2", title="Fikih zakat", author="Qardawi"), "reference"),
               rec(control="u3", title="Hukum waris", author="Suparman")]
    app = _imported(empty_database, tmp_path, records)
    with app.app_context():
        query = text("SELECT cluster_id, partner_id, statuses FROM catalog_search_holdings ORDER BY 1, 2")
        docs = text("SELECT cluster_id, holders FROM catalog_search_docs ORDER BY 1")
        indexed = db.session.execute(query).all()
        holders = db.session.execute(docs).all()
        db.session.commit()
        assert sorted(r[2] for r in indexed) == ["available on_loan", "not_for_loan", "unknown"]
        assert len(holders) == 3 and all(r[1] in ([indexed[0][1]], f"[{indexed[0][1]}]") for r in holders)
        downgrade(revision="0006")
        upgrade()
        assert db.session.execute(query).all() == indexed
        assert db.session.execute(docs).all() == holders
        db.session.remove()


def test_the_sort_keys_migration_fills_what_a_reindex_writes(empty_database, tmp_path):
    """0009 adds the title and the name each union record files under (a
    sort by title or author orders by them), filled by the rules a reindex
    writes them by."""
    from sqlalchemy import text

    from tests.union_catalog.test_matching import rec

    records = [rec(control="u1", title="Ha-Talmud ha-Bavli", ind2="3", author="Steinsaltz"),
               rec(control="u2", title="al-Qurʼan dan tafsirnya", author="al-Maraghi, Ahmad Mustafa"),
               rec(control="u3", title="Hukum waris", author="Suparman")]
    app = _imported(empty_database, tmp_path, records)
    with app.app_context():
        query = text("SELECT cluster_id, title_sort, author_sort FROM catalog_search_docs ORDER BY 1")
        indexed = db.session.execute(query).all()
        db.session.commit()
        assert sorted(r[1:] for r in indexed) == [("hukum waris", "suparman"),
                                                  ("quran dan tafsirnya", "maraghi ahmad mustafa"),
                                                  ("talmud ha bavli", "steinsaltz")]
        downgrade(revision="0008")
        upgrade()
        assert db.session.execute(query).all() == indexed
        db.session.remove()


def test_the_work_key_migration_fills_what_a_reindex_writes(empty_database, tmp_path):
    """0010 adds the work each union record is an edition of (its page lists
    the other editions by it), filled by the rule a reindex writes it by."""
    from sqlalchemy import text

    from tests.union_catalog.test_matching import rec

    records = [rec(control="u1", title="Pengantar ilmu hukum", author="Kansil, C.S.T.", edition="Ed. 2"),
               rec(control="u2", title="Pengantar ilmu hukum", author="C.S.T. Kansil", edition="Ed. 4",
                   year=2015),
               rec(control="u3", title="Hukum waris", author="")]
    app = _imported(empty_database, tmp_path, records)
    with app.app_context():
        query = text("SELECT cluster_id, work_key FROM catalog_search_docs ORDER BY 1")
        indexed = db.session.execute(query).all()
        db.session.commit()
        keys = [r[1] for r in indexed]
        assert len(keys) == 3 and keys[0] == keys[1] != "" and keys[2] == ""
        downgrade(revision="0009")
        upgrade()
        assert db.session.execute(query).all() == indexed
        db.session.remove()


def test_the_filing_keys_compare_byte_by_byte_on_postgresql(migrated_and_made):
    """A sort by title or author files word by word ("ilmu zakat" before
    "ilmuwan") on any PostgreSQL, whatever its own collation: the two
    columns are "C", migrated or made for the tests."""
    from sqlalchemy import create_engine, text

    def collations(url: str) -> dict:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return dict(conn.execute(text(
                    "SELECT column_name, collation_name FROM information_schema.columns "
                    "WHERE table_name = 'catalog_search_docs' AND column_name IN ('title_sort', 'author_sort')")).all())
        finally:
            engine.dispose()

    migrated, made = migrated_and_made
    assert collations(migrated) == collations(made) == {"title_sort": "C", "author_sort": "C"}


def test_the_headings_migration_fills_what_a_reindex_writes(empty_database, tmp_path):
    """0033 adds the author and subject headings to browse: records
    described before it gain their name headings from their MARC, and the
    table is filled by the rules a reindex writes it by."""
    from sqlalchemy import text

    from tests.union_catalog.test_browse import about
    from tests.union_catalog.test_matching import rec

    records = [about(rec(control="u1", title="Sejarah peradaban Islam", author="Yatim, Badri"),
                     "Islam -- History", added=("al-Ghazali, Abu Hamid",)),
               about(rec(control="u2", title="Ihya ulum al-din", author="Ghazali, Abu Hamid"), "Islam"),
               rec(control="u3", title="Hukum waris", author="")]
    app = _imported(empty_database, tmp_path, records)
    with app.app_context():
        query = text("SELECT kind, filing, cluster_id, heading FROM catalog_search_headings "
                     "ORDER BY kind, filing, cluster_id")
        digests = text("SELECT cluster_id, headings_digest FROM catalog_search_docs ORDER BY 1")
        indexed = db.session.execute(query).all()
        filed = db.session.execute(digests).all()
        assert len(filed) == 3 and all(d is not None for _c, d in filed)
        db.session.commit()
        assert [r[:2] for r in indexed] == [("author", "ghazali abu hamid"), ("author", "ghazali abu hamid"),
                                           ("author", "yatim badri"), ("subject", "islam"),
                                           ("subject", "islam -- history")]
        downgrade(revision="0032")
        # as describe() left the records before it kept their names
        for rid, data in db.session.execute(text("SELECT id, match_data FROM source_records")).all():
            data = json.loads(data) if isinstance(data, str) else data
            data.pop("names")
            db.session.execute(text("UPDATE source_records SET match_data = :d WHERE id = :id")
                               .bindparams(bindparam("d", type_=JSON)), {"d": data, "id": rid})
        db.session.commit()
        upgrade()
        assert db.session.execute(query).all() == indexed
        assert db.session.execute(digests).all() == filed
        names = [json.loads(d) if isinstance(d, str) else d for (d,) in db.session.execute(
            text("SELECT match_data FROM source_records ORDER BY id"))]
        assert [d["names"] for d in names] == [["Yatim, Badri", "al-Ghazali, Abu Hamid"],
                                               ["Ghazali, Abu Hamid"], []]
        db.session.remove()
