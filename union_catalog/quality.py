"""Catalogue quality: what each library's records lack that the union
catalogue needs, and what that costs its readers.

An import reports what is broken in one file (a bad leader, a missing 245).
This is the standing catalogue's other side: records that import well and
still serve badly. A book without an ISBN is matched to other libraries'
copies on title, author and year alone; a record without subjects is never
found by a subject search; one without a language is missing from the
language facet; one without copies listed cannot be judged available. The
coordinator sees which library needs what cataloguing help, and each
library's librarians the records to mend, by their position in the export as
the import report names them.

The checks are one table (``CHECKS``) over the facts the importer keeps of
each record (``matching.describe``); the arithmetic is a plain function
(``profile``), the database part only gathers rows.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import bulk, search
from .models import Item, SourceRecord


@dataclass(frozen=True)
class Check:
    key: str
    label: object  # lazy text
    why: object  # what a reader loses, lazy text
    concerns: Callable[[dict], bool]  # the records it applies to
    lacks: Callable[[dict], bool]  # ... and which of those fail it


def _format(*formats: str) -> Callable[[dict], bool]:
    return lambda d: (d.get("format") or "book") in formats


def _every(_d: dict) -> bool:
    return True


CHECKS: tuple[Check, ...] = (
    Check("isbn", _l("Book without an ISBN"),
          _l("Matched with other libraries' copies on title, author and year alone, and not found by ISBN."),
          _format("book"), lambda d: not d.get("isbns") and not d.get("isbns_set")),
    Check("isbn_invalid", _l("ISBN with a wrong check digit"),
          _l("The number is not used to match or to link the record: a typing error, or a number the "
             "publisher printed wrongly."),
          _every, lambda d: bool(d.get("isbns_invalid"))),
    Check("issn", _l("Serial without an ISSN"),
          _l("Matched on title alone, which many journals share."),
          _format("serial"), lambda d: not d.get("issns")),
    Check("author", _l("No author"),
          _l("Not found by author, and matched on title and year alone."),
          lambda d: (d.get("format") or "book") != "serial", lambda d: not d.get("author")),
    Check("year", _l("No year of publication"),
          _l("Missing from searches by year, and matched less surely."),
          _every, lambda d: not d.get("year")),
    Check("language", _l("No language"),
          _l("Missing from the language facet and its filter (008/35-37 or 041)."),
          _every, lambda d: (d.get("language") or "und") == "und"),
    # records described before the facts kept subjects are not judged
    Check("subjects", _l("No subject headings"),
          _l("Never found by a subject search (6XX)."),
          lambda d: "subjects" in d, lambda d: not d.get("subjects")),
    Check("publisher", _l("No publisher"),
          _l("Cited without a publisher, and matched less surely."),
          _format("book", "serial", "map", "score"), lambda d: not d.get("publisher")),
    Check("copies", _l("No copies listed"),
          _l("The export gave no item fields (952, 852, 949) for it: held, but whether a copy is on the "
             "shelf is unknown, so no request can count on it."),
          _every, lambda d: bool(d.get("_no_copies"))),
)
CHECK_KEYS = {c.key: c for c in CHECKS}


@dataclass
class Tally:
    concerned: int = 0  # records the check applies to
    lacking: int = 0

    @property
    def share(self) -> float | None:
        return self.lacking / self.concerned if self.concerned else None


@dataclass
class LibraryQuality:
    partner_id: int
    code: str
    name: str
    records: int = 0
    checks: dict[str, Tally] = field(default_factory=lambda: {c.key: Tally() for c in CHECKS})

    def to_dict(self) -> dict:
        return {"library": self.code, "name": self.name, "records": self.records,
                "checks": {k: {"concerned": t.concerned, "lacking": t.lacking,
                               "share": None if t.share is None else round(t.share, 4)}
                           for k, t in self.checks.items()}}


def profile(records: Iterable[tuple[int, dict]], partners: dict[int, tuple[str, str]]) -> list[LibraryQuality]:
    """Each library's tallies from (library id, record facts) pairs; libraries
    with most records first."""
    out = {pid: LibraryQuality(pid, code, name) for pid, (code, name) in partners.items()}
    for pid, facts in records:
        row = out.get(pid)
        if row is None:
            continue
        row.records += 1
        for check in CHECKS:
            if check.concerns(facts):
                tally = row.checks[check.key]
                tally.concerned += 1
                tally.lacking += check.lacks(facts)
    return sorted(out.values(), key=lambda r: (-r.records, r.code))


@dataclass(frozen=True)
class Lacking:
    """A record that fails a check, as the import report names records."""

    record_id: int
    ordinal: int
    control_number: str
    title: str
    year: int | None
    cluster_id: int | None

    COLUMNS = ("ordinal", "control_number", "title", "year", "union_record_id")

    def cells(self) -> list:
        """The row under COLUMNS, as a spreadsheet or a command prints it."""
        return [self.ordinal, self.control_number, self.title, self.year or "", self.cluster_id or ""]


# The facts the checks read (see _select).
FACT_KEYS = ("format", "isbns", "isbns_set", "isbns_invalid", "issns", "author", "year", "language",
             "subjects", "publisher")


def _select(conn, where: str) -> str:
    """The live records' columns and an array of their FACT_KEYS (null where
    the facts lack the key), picked by the database: decoding whole facts in
    Python took a second per 60,000 records. PostgreSQL parses each json
    value once for all the keys (json_to_record), not once per key."""
    columns = "r.id, r.partner_id, r.ordinal, r.control_number, r.title, r.year, r.cluster_id"
    table = f"{SourceRecord.__tablename__} AS r"
    if bulk.is_postgres(conn):
        # as text, decoded by orjson: psycopg's own JSON decoding took as long again
        picked = "json_build_array(" + ", ".join(f"f.{k}" for k in FACT_KEYS) + ")::text"
        table += ", json_to_record(r.match_data) AS f(" + ", ".join(f"{k} json" for k in FACT_KEYS) + ")"
    else:
        picked = "json_extract(r.match_data, " + ", ".join(f"'$.{k}'" for k in FACT_KEYS) + ")"
    return f"SELECT {columns}, {picked} FROM {table} WHERE {where} ORDER BY r.partner_id, r.ordinal"


def _rows(session, partner_ids: Collection[int] | None) -> Iterator[tuple]:
    """(id, library id, ordinal, 001, title, year, union record, facts) of
    the live records, in export order; facts hold FACT_KEYS (a key the
    record's facts lack is left out) and ``_no_copies``."""
    conn = session.connection()
    where = "r.withdrawn_at IS NULL"
    if partner_ids is not None:
        where += f" AND r.partner_id IN ({', '.join(str(int(p)) for p in partner_ids) or 'NULL'})"
    # the records whose library's export listed no copies: one placeholder item each
    unknown_query = (select(Item.source_record_id).join(SourceRecord, SourceRecord.id == Item.source_record_id)
                     .where(Item.source == "none", SourceRecord.withdrawn_at.is_(None)))
    if partner_ids is not None:
        unknown_query = unknown_query.where(SourceRecord.partner_id.in_(list(partner_ids)))
    unknown = set(session.scalars(unknown_query))
    # streamed (a server-side cursor on PostgreSQL): a network's records are
    # never all in memory at once
    rows = conn.exec_driver_sql(_select(conn, where), execution_options={"stream_results": True,
                                                                           "yield_per": 2000})
    for rid, pid, ordinal, control, title, year, cluster_id, picked in rows:
        facts = {k: v for k, v in zip(FACT_KEYS, bulk.json_value(picked), strict=True) if v is not None}
        if rid in unknown:
            facts["_no_copies"] = True
        yield rid, pid, ordinal, control, title, year, cluster_id, facts


def _partners(session, partner_ids: Collection[int] | None) -> dict[int, tuple[str, str]]:
    return {pid: (p["code"], p["name"]) for pid, p in search._partners(session).items()
            if partner_ids is None or pid in partner_ids}


def catalogue_quality(session, partner_ids: Collection[int] | None = None) -> list[LibraryQuality]:
    """The libraries' tallies (``partner_ids``: those wanted, None: all)."""
    return profile(((pid, facts) for _r, pid, *_rest, facts in _rows(session, partner_ids)),
                   _partners(session, partner_ids))


def lacking(session, partner_id: int, check: Check) -> list[Lacking]:
    """One library's records that fail a check, in their order in its export."""
    return [Lacking(rid, ordinal, control or "", title or "", year, cluster_id)
            for rid, _pid, ordinal, control, title, year, cluster_id, facts in _rows(session, [partner_id])
            if check.concerns(facts) and check.lacks(facts)]


__all__ = ["CHECKS", "CHECK_KEYS", "Check", "Tally", "LibraryQuality", "Lacking", "profile",
           "catalogue_quality", "lacking"]
