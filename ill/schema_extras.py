"""Database objects that ``db.create_all()`` does not make from the models
(full-text search tables, triggers), for the tests' fresh databases. The
migrations create the same objects for real databases; keep both in step."""
from __future__ import annotations


def create_all(session) -> None:
    for extra in _extras():
        extra.create(session)


def empty_all(session) -> None:
    for extra in _extras():
        extra.empty(session)


def _extras() -> list:
    """Modules with create(session) and empty(session), in order."""
    from union_catalog import search_schema

    return [search_schema]


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic: leave alone the objects that the extras manage by hand
    (an FTS5 table and its shadow tables are no model's business)."""
    if type_ == "table" and reflected and compare_to is None:
        for extra in _extras():
            if any(name == n or name.startswith(n + "_") for n in extra.MANAGED_TABLES):
                return False
    return True
