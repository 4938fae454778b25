"""Collection overlap: how much of each library's collection the network
holds elsewhere, and what it alone holds.

Coordinators weigh cooperative collection development, retention and
weeding on these figures: an edition that one library alone holds is the
network's last copy (to keep, and to lend with care); one that many hold is
safe to weed or to buy no more of. A library's overlap with another says how
far each could stand in for the other as a lender.

Everything is counted in union records (editions), from the search index's
holdings: the same that the search's library facet counts, and kept as
current by every import. The arithmetic is one plain function over plain
rows (``summarise``); the database part only gathers them.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from . import bulk, search
from .models import Cluster, Item, SearchDoc, SearchHolding, SourceRecord

# Holders are counted 1, 2, 3, 4 and "5 or more".
MOST_HOLDERS = 5


@dataclass
class LibraryOverlap:
    """One library's collection against the rest of the network."""

    partner_id: int
    code: str
    name: str
    held: int = 0  # union records it holds
    # held[n]: how many of them n libraries hold (itself included), n up to MOST_HOLDERS
    by_holders: Counter = field(default_factory=Counter)
    shared: dict[int, int] = field(default_factory=dict)  # other library's id -> held by both

    @property
    def unique(self) -> int:
        """Held by this library alone: the network's last copies."""
        return self.by_holders[1]

    @property
    def unique_share(self) -> float | None:
        return self.unique / self.held if self.held else None

    def share_with(self, other_id: int) -> float | None:
        """The part of this library's holdings the other also holds."""
        return self.shared.get(other_id, 0) / self.held if self.held else None

    def to_dict(self, codes: dict[int, str]) -> dict:
        return {
            "library": self.code,
            "name": self.name,
            "held": self.held,
            "unique": self.unique,
            "unique_share": None if self.unique_share is None else round(self.unique_share, 4),
            "by_holders": {(f"{n}+" if n == MOST_HOLDERS else str(n)): self.by_holders[n]
                           for n in range(1, MOST_HOLDERS + 1)},
            "shared_with": {codes[pid]: {"held": n, "share": round(n / self.held, 4)}
                            for pid, n in sorted(self.shared.items(), key=lambda kv: codes[kv[0]])},
        }


@dataclass
class Overlap:
    """The network's figures: each library's, and the whole's."""

    libraries: list[LibraryOverlap]
    editions: int  # union records any library holds
    unique: int  # ... that one library alone holds
    format: str = ""
    codes: dict[int, str] = field(default_factory=dict)  # every library's, those not shown too


def summarise(holdings: Iterable[tuple[int, int]], partners: dict[int, tuple[str, str]],
              only: Collection[int] | None = None) -> Overlap:
    """Overlap from (union record id, library id) pairs, one per library
    holding the record. ``partners`` names the libraries (id -> (code,
    name)); ``only``: the libraries whose rows are wanted (None: all). The
    network's totals always count every library."""
    holders: dict[int, list[int]] = defaultdict(list)
    for cluster_id, partner_id in holdings:
        holders[cluster_id].append(partner_id)
    rows = {pid: LibraryOverlap(pid, code, name) for pid, (code, name) in partners.items()
            if only is None or pid in only}
    unique = 0
    for pids in holders.values():
        n = len(pids)
        unique += n == 1
        for pid in pids:
            row = rows.get(pid)
            if row is None:
                continue
            row.held += 1
            row.by_holders[min(n, MOST_HOLDERS)] += 1
            if n > 1:
                for other in pids:
                    if other != pid:
                        row.shared[other] = row.shared.get(other, 0) + 1
    libraries = sorted(rows.values(), key=lambda r: (-r.held, r.code))
    return Overlap(libraries=libraries, editions=len(holders), unique=unique,
                   codes={pid: code for pid, (code, _name) in partners.items()})


def collection_overlap(session, fmt: str = "", only: Collection[int] | None = None) -> Overlap:
    """The network's overlap, of union records of one format (``fmt``, as
    search's format facet names them) or of all."""
    conn = session.connection()
    sql = f"SELECT h.cluster_id, h.partner_id FROM {SearchHolding.__tablename__} AS h"
    if fmt:
        sql += (f" JOIN {SearchDoc.__tablename__} AS d ON d.cluster_id = h.cluster_id"
                f" WHERE d.format = {bulk.placeholder(conn)}")
    partners = {pid: (p["code"], p["name"]) for pid, p in search._partners(session).items()}
    found = summarise(bulk.rows_of(conn, sql, (fmt,) if fmt else ()), partners, only)
    found.format = fmt
    return found


@dataclass
class LastCopy:
    """A union record one library alone holds, as a retention list gives it."""

    cluster_id: int
    title: str
    author: str
    year: int | None
    isbns: list[str]
    format: str
    items: int
    available: int
    call_numbers: list[str]

    COLUMNS = ("union_record_id", "title", "author", "year", "isbn", "format", "items", "available", "call_numbers")

    def cells(self) -> list:
        """The row under COLUMNS, as a spreadsheet or a command prints it."""
        return [self.cluster_id, self.title, self.author, self.year or "", " ".join(self.isbns), self.format,
                self.items, self.available, "; ".join(self.call_numbers)]


def last_copies(session, partner_id: int, fmt: str = "") -> list[LastCopy]:
    """The union records that this library alone holds, in title order, each
    with its copies' call numbers there: the list a librarian takes to the
    shelves before weeding, or to a retention agreement."""
    query = (select(Cluster.id, Cluster.title, Cluster.author, Cluster.year, Cluster.isbns, Cluster.format,
                    SearchHolding.items, SearchHolding.available)
             .join(SearchHolding, SearchHolding.cluster_id == Cluster.id)
             .join(SearchDoc, SearchDoc.cluster_id == Cluster.id)
             .where(SearchHolding.partner_id == partner_id, SearchDoc.libraries == 1)
             .order_by(SearchDoc.title_sort, Cluster.id))
    if fmt:
        query = query.where(SearchDoc.format == fmt)
    rows = session.execute(query).all()
    conn = session.connection()
    calls: dict[int, list[str]] = defaultdict(list)
    for cluster_id, call_number in bulk.select_among(
            conn, f"SELECT r.cluster_id, i.call_number FROM {Item.__tablename__} i "
                  f"JOIN {SourceRecord.__tablename__} r ON r.id = i.source_record_id",
            "r.cluster_id", [r[0] for r in rows],
            tail=f" AND r.partner_id = {int(partner_id)} AND r.withdrawn_at IS NULL"):
        if call_number and call_number not in calls[cluster_id]:
            calls[cluster_id].append(call_number)
    return [LastCopy(cid, title or "", author or "", year, list(bulk.json_value(isbns) or []), fmt_ or "",
                     items or 0, available or 0, sorted(calls.get(cid, [])))
            for cid, title, author, year, isbns, fmt_, items, available in rows]


__all__ = ["LibraryOverlap", "Overlap", "LastCopy", "summarise", "collection_overlap", "last_copies",
           "MOST_HOLDERS"]
