"""The bulk helpers: many rows at a time, the same on both databases."""
from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from union_catalog import bulk


def test_integer_arrays_go_as_their_text():
    assert bulk._pg_array([3, 1, -7, 2**62], "bigint") == "{3,1,-7,4611686018427387904}"
    assert bulk._pg_array([1, None, 2], "integer") == "{1,NULL,2}"
    assert bulk._pg_array([], "integer") == "{}"
    assert bulk._pg_array(("a", 'say "hi"', None, "back\\slash"), "text") == \
        '{"a","say \\"hi\\"",NULL,"back\\\\slash"}'
    assert bulk._pg_array([{"a": 1}], "json") == [{"a": 1}]  # not a string: psycopg's own


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.none(),
    st.text(st.sampled_from('\\"{},\' \tNUL')),  # what the array's text gives meaning to
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))))
@example(["x\\y", "ends\\", 'say "hi"', "{a,b}", "NULL", "", " ", None])
def test_string_arrays_go_as_their_text_and_come_back_the_same(session, values):
    """Whatever the strings hold (quotes, backslashes, braces, commas, spaces,
    the word NULL, any script), the array's text reads back as the strings."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("arrays as text are PostgreSQL's")
    conn = session.connection()
    for pg_type in ("text", "varchar"):
        back = conn.exec_driver_sql(f"SELECT %s::{pg_type}[]", (bulk._pg_array(values, pg_type),)).scalar()
        assert back == values


def test_lookups_updates_and_deletes_by_many_values(session):
    conn = session.connection()
    conn.exec_driver_sql("CREATE TEMPORARY TABLE bulk_probe (id integer PRIMARY KEY, k bigint, n integer, "
                         "label text)")
    rows = [(i, -(2**40) - i, i % 3 or None, f"row {i}, \"quoted\" {{braced}}") for i in range(1, 1201)]
    bulk.insert_rows(conn, "bulk_probe", [("id", "integer"), ("k", "bigint"), ("n", "integer"),
                                          ("label", "text")], rows)
    wanted = [r[1] for r in rows[::7]]
    found = sorted(bulk.select_among(conn, "SELECT id, k FROM bulk_probe", "k", wanted, pg_type="bigint"))
    assert found == sorted((r[0], r[1]) for r in rows[::7])
    bulk.update_rows(conn, "bulk_probe", [("n", "integer"), ("label", "text")],
                     [(None if i % 2 else i, f"new {i}, {{x}}", i) for i in range(1, 1201, 5)])
    got = dict(conn.exec_driver_sql("SELECT id, n FROM bulk_probe WHERE id IN (1, 6, 11)").fetchall())
    assert got == {1: None, 6: 6, 11: None}
    assert conn.exec_driver_sql("SELECT label FROM bulk_probe WHERE id = 6").scalar() == "new 6, {x}"
    bulk.delete_among(conn, "bulk_probe", "id", range(1, 601))
    bulk.delete_keys(conn, "bulk_probe", [("id", "integer"), ("k", "bigint")],
                     [(r[0], r[1]) for r in rows[600:610]])
    assert session.execute(text("SELECT count(*) FROM bulk_probe")).scalar() == 590


_ROW = st.tuples(
    st.integers(-(2**31), 2**31 - 1),
    st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))),
    st.one_of(st.none(), st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                                        blacklist_characters="\x00")), max_size=3)),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    st.one_of(st.none(), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ROW, max_size=20))
@example([(1, None, "tab\there\nnewline \\N back\\slash", ["\\", '"', "\t"], None, [1, -2])])
def test_inserted_rows_read_back_as_they_were(session, rows):
    """Whatever the values hold (tabs, newlines, backslashes, \\N, any
    script; JSON given as its text), insert_rows writes them as they are, in
    COPY's binary format on PostgreSQL or by INSERT on SQLite."""

    from ill.jsoncodec import dumps, loads

    conn = session.connection()
    postgres = session.get_bind().dialect.name == "postgresql"
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS bulk_rows (n integer, k bigint, label varchar(10000), "
        f"doc {'json' if postgres else 'text'}, at {'timestamptz' if postgres else 'text'}, "
        f"ids {'integer[]' if postgres else 'text'})")
    conn.exec_driver_sql("DELETE FROM bulk_rows")
    columns = [("n", "integer"), ("k", "bigint"), ("label", "varchar"), ("doc", "json"),
               ("at", "timestamptz"), ("ids", "integer[]")]
    sent = [(n, k, label, None if doc is None else dumps(doc), bulk.timestamp(conn, at) if at else None,
             ids if postgres or ids is None else dumps(ids)) for n, k, label, doc, at, ids in rows]
    bulk.insert_rows(conn, "bulk_rows", columns, sent)
    back = conn.exec_driver_sql("SELECT n, k, label, doc, at, ids FROM bulk_rows").fetchall()
    got = sorted(((n, k, label, doc if postgres or doc is None else loads(doc),
                   at.astimezone(UTC) if postgres and at else at,
                   ids if postgres or ids is None else loads(ids)) for n, k, label, doc, at, ids in back),
                 key=repr)
    want = sorted(((n, k, label, doc, bulk.timestamp(conn, at) if at and not postgres else at, ids)
                   for n, k, label, doc, at, ids in rows), key=repr)
    assert got == want
