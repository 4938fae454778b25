"""Many rows at a time, straight to the database driver.

An import writes and reads back tens of thousands of rows; SQLAlchemy's
per-row work (bind and result processors, ORM bookkeeping) would cost more
than the database's. The importer, clustering and the search index go
through these few helpers instead, the same way on both databases:

- PostgreSQL gets ``COPY`` for new rows, and one array per column
  (``unnest``, ``= ANY``) for updates and lookups: a short statement and a
  handful of parameters, however many rows;
- SQLite, in-process, gets ``executemany`` and ``IN (?, ...)`` in chunks under
  its bound-parameter limit.

JSON values travel as text (``ill.jsoncodec.dumps``) and are cast on the way
in; JSON read back is decoded by ``loads`` here.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ill.jsoncodec import dumps, loads

__all__ = ["dumps", "loads", "is_postgres", "chunks", "new_ids", "insert_rows", "update_rows",
           "select_among", "delete_among", "delete_keys", "json_value", "timestamp"]

SQLITE_IDS = 900  # values per IN (...): under SQLite's bound-parameter limit with room to spare
POSTGRES_IDS = 50000  # values per = ANY(array)
ROWS = 5000  # rows per executemany (SQLite) or per array statement (PostgreSQL)


def is_postgres(conn) -> bool:
    return conn.dialect.name == "postgresql"


def chunks(values: Iterable, size: int) -> Iterator[list]:
    values = values if isinstance(values, list) else list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _array_type(pg_type: str) -> str:
    # json travels as text and is cast on the way in
    return "text" if pg_type in ("json", "jsonb") else pg_type


_TEXT_TYPES = ("text", "varchar", "json", "jsonb")


def _pg_array(values, pg_type: str):
    """An array parameter for PostgreSQL. Integers and strings go as the
    array's text, made in one join (psycopg would write a list of thousands
    of values element by element in Python, six times slower for strings);
    other values as a list. In that text a string is quoted, its quotes and
    backslashes escaped, and NULL is bare."""
    values = list(values)
    if pg_type in ("integer", "bigint"):
        if None not in values:
            return "{" + ",".join(map(str, map(int, values))) + "}"
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    if pg_type in _TEXT_TYPES and all(v is None or type(v) is str for v in values):
        return "{" + ",".join(
            "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in values) + "}"
    return values


def new_ids(conn, table: str, n: int) -> list[int]:
    """Ids for n new rows of `table` (its integer primary key is "id"),
    ascending, so that rows go in with their ids and nothing is read back.
    PostgreSQL draws them from the table's sequence. SQLite gives a new row
    the largest id plus one; the write that matches no row first takes the
    database's write lock (kept until the transaction ends), so no other
    writer can insert between reading the largest id and using the ones
    after it."""
    if n <= 0:
        return []
    if is_postgres(conn):
        return [r[0] for r in conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            "FROM generate_series(1, %s) ORDER BY 1", (n,))]
    conn.exec_driver_sql(f"UPDATE {table} SET id = id WHERE 0")
    top = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
    return list(range(top + 1, top + 1 + n))


# A column's type as binary COPY sends it. JSON is sent as the text it
# already is (json's binary form is its text; jsonb's is not, and has none here).
_COPY_BINARY = {"integer": "int4", "bigint": "int8", "varchar": "text", "text": "text", "json": "text",
                "timestamptz": "timestamptz", "integer[]": "int4[]"}


def insert_rows(conn, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
    """INSERT many rows. columns: (name, PostgreSQL type); each row: the
    values in that order (JSON already as text). A row that breaks a
    constraint fails the whole statement, as an INSERT would."""
    if not rows:
        return
    names = ", ".join(c for c, _t in columns)
    if is_postgres(conn):
        # COPY: the server's bulk path, and psycopg writes its rows in C (array
        # parameters would be escaped element by element in Python); in the
        # binary format where every column has one here, since text and JSON
        # (most of what an import writes: each record's MARC-in-JSON) then
        # go as they are, neither escaped by the client nor unescaped by the server
        binary = [_COPY_BINARY.get(t) for _c, t in columns]
        with conn.connection.driver_connection.cursor() as cursor:
            if all(binary):
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(binary)
                    for row in rows:
                        copy.write_row(row)
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        return
    marks = ", ".join(["?"] * len(columns))
    for chunk in chunks(rows, ROWS):
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)


def update_rows(conn, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
    """UPDATE table SET columns WHERE id = ..., for many rows at once.
    columns: (name, PostgreSQL type); each row: the values in that order,
    then the id."""
    if not rows:
        return
    if is_postgres(conn):
        names = [c for c, _t in columns]
        sets = ", ".join(f"{c} = v.{c}::{t}" for c, t in columns)
        arrays = ", ".join([f"%s::{_array_type(t)}[]" for _c, t in columns] + ["%s::integer[]"])
        sql = (f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) "
               f"AS v({', '.join(names)}, id) WHERE t.id = v.id")
        types = [t for _c, t in columns] + ["integer"]
        for chunk in chunks(rows, ROWS * 4):
            conn.exec_driver_sql(sql, tuple(_pg_array(col, t) for col, t in
                                            zip(zip(*chunk, strict=True), types, strict=True)))
        return
    sets = ", ".join(f"{c} = ?" for c, _t in columns)
    for chunk in chunks(rows, ROWS):
        conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE id = ?", chunk)


def _among(conn, column: str, values: list, pg_type: str) -> tuple[str, tuple]:
    if is_postgres(conn):
        return f"{column} = ANY(%s::{pg_type}[])", (_pg_array(values, pg_type),)
    return f"{column} IN ({', '.join(['?'] * len(values))})", tuple(values)


def select_among(conn, sql: str, column: str, values: Iterable, pg_type: str = "integer",
                 tail: str = "") -> Iterator[tuple]:
    """Rows of `sql` (a SELECT ... FROM ... up to its WHERE) whose column is
    among values, in as many statements as the values need; tail: what
    follows the condition (" AND ...", " GROUP BY ...")."""
    size = POSTGRES_IDS if is_postgres(conn) else SQLITE_IDS
    for chunk in chunks(set(values), size):
        where, params = _among(conn, column, chunk, pg_type)
        # fetchall: one call into the driver, not one per row
        yield from conn.exec_driver_sql(f"{sql} WHERE {where}{tail}", params).fetchall()


def placeholder(conn) -> str:
    """The driver's mark for a parameter in a raw statement."""
    return "%s" if is_postgres(conn) else "?"


def rows_of(conn, sql: str, params: tuple = ()) -> list[tuple]:
    """Every row of a statement (parameters marked by ``placeholder``),
    through the driver's own cursor: for reading a whole table's few
    columns, where building SQLAlchemy's rows took five times the statement
    (the overlap of 60,000 holdings: 110 ms against 24)."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def delete_among(conn, table: str, column: str, values: Iterable, pg_type: str = "integer") -> None:
    size = POSTGRES_IDS if is_postgres(conn) else SQLITE_IDS
    for chunk in chunks(set(values), size):
        where, params = _among(conn, column, chunk, pg_type)
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {where}", params)


def timestamp(conn, value):
    """A timestamp as this driver takes it in a raw statement (SQLite keeps
    SQLAlchemy's text form)."""
    from sqlalchemy import DateTime

    process = DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process else value


def delete_keys(conn, table: str, columns: list[tuple[str, str]], keys: list[tuple]) -> None:
    """DELETE the rows whose columns (name, PostgreSQL type) hold one of keys."""
    if not keys:
        return
    if is_postgres(conn):
        arrays = ", ".join(f"%s::{t}[]" for _c, t in columns)
        aliases = ", ".join(f"k{i}" for i in range(len(columns)))
        match = " AND ".join(f"t.{c} = d.k{i}" for i, (c, _t) in enumerate(columns))
        sql = f"DELETE FROM {table} AS t USING unnest({arrays}) AS d({aliases}) WHERE {match}"
        for chunk in chunks(keys, POSTGRES_IDS):
            conn.exec_driver_sql(sql, tuple(_pg_array(col, t) for col, (_c, t) in
                                            zip(zip(*chunk, strict=True), columns, strict=True)))
        return
    match = " AND ".join(f"{c} = ?" for c, _t in columns)
    conn.exec_driver_sql(f"DELETE FROM {table} WHERE {match}", list(keys))


def json_value(value):
    """A JSON column as read by the driver: text on SQLite, decoded on PostgreSQL."""
    if isinstance(value, str | bytes):
        return loads(value)
    return value
