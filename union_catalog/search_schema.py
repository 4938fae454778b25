"""The full-text table of the union catalogue, the one object of search that
``create_all`` cannot make. All its DDL is here, per dialect, for the tests
(through ``ill.schema_extras``) and for the migration that creates it on real
databases:

    from union_catalog import search_schema
    for stmt in search_schema.create_statements(op.get_bind().dialect.name):
        op.execute(stmt)

SQLite: an FTS5 table (rowid = cluster id) with four columns: title, author,
subject, other (publisher, edition, year, identifiers).
PostgreSQL: a table of one weighted tsvector per cluster (A title, B author,
C subject, D other) with a GIN index. Text is folded in Python before it gets
here (see ``union_catalog.searchtext``), so no extension (unaccent, pg_trgm)
is needed.

The GIN index takes new entries into its pending list (fastupdate), which
costs an import a third of what adding each word to the index does; every
write to the index ends with ``settle``, which moves that list into the
index in one pass, so that searches never scan a long pending list."""

from __future__ import annotations

from sqlalchemy import text

FTS_TABLE = "catalog_fts"
FTS_INDEX = f"ix_{FTS_TABLE}_doc"  # PostgreSQL
MANAGED_TABLES = (FTS_TABLE,)
# PostgreSQL: where a reindex stages its words (by COPY) before they become
# vectors in one statement; a temporary table, gone at the end of the
# transaction, so never in a migration or a dump
FTS_STAGE = "catalog_fts_stage"
FTS_STAGE_COLUMNS = [("cluster_id", "integer"), ("title", "text"), ("author", "text"),
                     ("subject", "text"), ("other", "text")]
STAGE_STATEMENT = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {FTS_STAGE} ("
                   + ", ".join(f"{name} {kind}" for name, kind in FTS_STAGE_COLUMNS)
                   + ") ON COMMIT DROP")


def create_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "title, author, subject, other, "
            "tokenize = 'unicode61 remove_diacritics 2')",
        ]
    if dialect == "postgresql":
        return [
            # derived from the union records, so no foreign key (see
            # union_catalog.models)
            f"CREATE TABLE IF NOT EXISTS {FTS_TABLE} ("
            "cluster_id integer PRIMARY KEY, doc tsvector NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {FTS_INDEX} ON {FTS_TABLE} USING gin (doc) "
            "WITH (fastupdate = on)",
        ]
    raise ValueError(f"union catalogue search does not support the {dialect} database")


def drop_statements(dialect: str) -> list[str]:
    return [f"DROP TABLE IF EXISTS {FTS_TABLE}"]


def empty_statements(dialect: str) -> list[str]:
    return [f"DELETE FROM {FTS_TABLE}"]


def settle(conn) -> None:
    """After writing to the index: PostgreSQL merges the GIN pending list
    (a pending list left long would make every search scan it: 6 ms for one
    word on 20,000 records)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{FTS_INDEX}')")


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def create(session) -> None:
    for stmt in create_statements(_dialect(session)):
        session.execute(text(stmt))


def empty(session) -> None:
    for stmt in empty_statements(_dialect(session)):
        session.execute(text(stmt))
