"""Searching the union catalogue: one interface, two engines (SQLite FTS5,
PostgreSQL tsvector), an index kept current by imports, and the answer to
"where can I ask for it?".

- ``reindex_clusters(session, ids)``: the importer calls it after clustering,
  with every cluster it touched (made, changed, emptied or deleted). It never
  commits; the importer's job calls ``upkeep_after_commit`` once it has.
- ``parse_query(args)`` reads the search form or the API's query string;
  ``search(session, query, user, day)`` answers it; ``record(session, id,
  user, day)`` describes one union record with its holdings.
- Requestability: ``set_requestability_provider(fn)``; the loan workflow
  registers its own, so this package never imports it.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    bindparam,
    func,
    select,
    text,
    union_all,
)

from ill import clock
from ill.config import setting
from ill.errors import Gone, NotFound

from . import bulk, headings, matching, search_schema, searchtext, suggest, variants
from .errors import CatalogError
from .holdings import BARCODE_SUBFIELDS
from .models import Cluster, Item, ItemStatus, SearchDoc, SearchHolding, SourceRecord
from .search_schema import FTS_TABLE

log = logging.getLogger(__name__)

PER_PAGE = 20
# How a search's results may be ordered (``sort``), and the order each
# means over the hits: relevance (the default, see Searcher.statement), the
# year (newest or oldest first), the title or the author as they file
# (SearchDoc.title_sort, author_sort). Records without a year, a title or an
# author come last; among equals the relevance's tier and holders decide
# (by year), the year, newest first (by title), the title (by author), then the id.
SORTS = {
    "relevance": None,
    "year_desc": "year IS NULL, year DESC, tier DESC, libraries DESC, libraries_available DESC, cluster_id",
    "year_asc": "year IS NULL, year, tier DESC, libraries DESC, libraries_available DESC, cluster_id",
    "title": "title_sort = '', title_sort, year IS NULL, year DESC, cluster_id",
    "author": "author_sort = '', author_sort, title_sort = '', title_sort, year IS NULL, year DESC, cluster_id",
    # the union records made last first: a union record's number grows with
    # each one made (a new edition arriving; also one a merge or split made)
    "newest": "cluster_id DESC",
}
# the index's columns each order reads besides the hits' own
SORT_COLUMNS = {"title": ("title_sort",), "author": ("author_sort", "title_sort")}
DEFAULT_SORT = "relevance"
SORT_LABELS = {"relevance": _l("Relevance"), "year_desc": _l("Newest first"),
               "year_asc": _l("Oldest first"), "title": _l("Title (A–Z)"), "author": _l("Author (A–Z)"),
               "newest": _l("Newest in the catalogue")}
# A reindex of this many union records (an import, a rebuild) refreshes the
# planner's statistics of the index tables (see the engines' ``analyze``).
ANALYZE_AFTER = 1000
# ... and on PostgreSQL, after an import, when the changes since the last
# statistics make this share of the index (autovacuum's scale factor for ANALYZE)
STALE_SHARE = 0.1
MAX_PER_PAGE = 100
STAFF_ROLES = ("librarian", "coordinator", "admin")
SERVICES = ("loan", "copy")


# --- requestability ---------------------------------------------------------

# fn(session, user, cluster_id, day)
#   -> {partner_id: {"loan": (bool, reason), "copy": (bool, reason)}}
RequestabilityProvider = Callable[..., dict]


@dataclass(frozen=True)
class Held:
    """What the search index holds of one union record's copies: its form,
    per holding library the statuses of its copies (each once; none when it
    has no copy recorded), and the edition's year (a lender's rules may
    weigh it)."""

    format: str | None
    statuses: dict[int, tuple[str, ...]]
    year: int | None = None


def availability_requestability(session, user, cluster_id: int, day: date) -> dict:
    """Without the loan workflow: what the items' statuses allow, for a user
    of a library asking another library. Agreements are not consulted."""
    return _availability_many(session, user, [cluster_id], day).get(cluster_id, {})


def _availability_many(session, user, cluster_ids: list[int], day: date,
                       held: dict[int, Held] | None = None) -> dict[int, dict]:
    if user is None or not getattr(user, "library_id", None) or not cluster_ids:
        return {}
    if held is None:
        held = held_from_items(session, cluster_ids)
    out: dict[int, dict] = {}
    for cluster_id in cluster_ids:
        if cluster_id not in held:
            continue
        answers = out.setdefault(cluster_id, {})
        for partner_id, statuses in held[cluster_id].statuses.items():
            if partner_id == user.library_id:
                own = (False, _("your own library holds it"))
                answers[partner_id] = {"loan": own, "copy": own}
                continue
            statuses = set(statuses)
            answers[partner_id] = {"loan": _loan_by_items(statuses), "copy": _copy_by_items(statuses)}
    return out


availability_requestability.many = _availability_many


def held_from_items(session, cluster_ids: list[int]) -> dict[int, Held]:
    """``Held`` of these union records read from their live records and items
    (what the index keeps of them, read at the source)."""
    found: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    formats = {cid: (fmt, year) for cid, fmt, year in session.execute(
        select(Cluster.id, Cluster.format, Cluster.year).where(Cluster.id.in_(list(cluster_ids))))}
    rows = session.execute(
        select(SourceRecord.cluster_id, SourceRecord.partner_id, Item.status)
        .select_from(SourceRecord)
        .outerjoin(Item, Item.source_record_id == SourceRecord.id)
        .where(SourceRecord.cluster_id.in_(list(cluster_ids)), SourceRecord.withdrawn_at.is_(None))
        .group_by(SourceRecord.cluster_id, SourceRecord.partner_id, Item.status)
    )
    for cluster_id, partner_id, status in rows:
        statuses = found[cluster_id][partner_id]
        if status is not None:
            statuses.add(status)
    out = {}
    for cid, by_partner in found.items():
        fmt, year = formats.get(cid, (None, None))
        out[cid] = Held(fmt, {pid: tuple(sorted(s)) for pid, s in by_partner.items()}, year)
    return out


def _loan_by_items(statuses: set[str]) -> tuple[bool, str]:
    if ItemStatus.AVAILABLE in statuses:
        return True, ""
    if not statuses:
        return False, _("no copies recorded")
    if statuses == {ItemStatus.ON_LOAN}:
        return False, _("all copies on loan")
    if statuses <= {ItemStatus.NOT_FOR_LOAN, ItemStatus.ON_LOAN}:
        return False, _("not for loan")
    return False, _("no copy on the shelf")


def _copy_by_items(statuses: set[str]) -> tuple[bool, str]:
    if ItemStatus.AVAILABLE in statuses or ItemStatus.NOT_FOR_LOAN in statuses:
        return True, ""
    if not statuses:
        return False, _("no copies recorded")
    return False, _("no copy on the shelf to copy from")


_provider: list[RequestabilityProvider] = [availability_requestability]


def set_requestability_provider(fn: RequestabilityProvider | None) -> None:
    """Who may ask whom for what. None restores the item-availability answer."""
    _provider[0] = fn or availability_requestability


def requestability_provider() -> RequestabilityProvider:
    return _provider[0]


def from_routing(
    per_service: Callable[..., dict], per_service_many: Callable[..., dict] | None = None
) -> RequestabilityProvider:
    """Adapt a per-service answer ``fn(session, borrower_library_id,
    cluster_id, service, day) -> {partner_id: (bool, reason)}`` (such as
    ``ill.routing.requestability``) into a provider:

        union_catalog.set_requestability_provider(union_catalog.from_routing(routing.requestability))

    ``per_service_many(session, borrower_library_id, cluster_ids, services,
    day) -> {service: {cluster_id: {partner_id: (bool, reason)}}}`` (such as
    ``ill.routing.requestability_many``), when given, answers a whole page of
    search results at once.
    """

    def provider(session, user, cluster_id, day):
        library_id = getattr(user, "library_id", None) if user is not None else None
        if not library_id:
            return {}
        out: dict[int, dict] = defaultdict(dict)
        for service in SERVICES:
            for partner_id, answer in (
                per_service(session, library_id, cluster_id, service, day) or {}
            ).items():
                out[partner_id][service] = tuple(answer)
        return dict(out)

    if per_service_many is not None:

        def many(session, user, cluster_ids, day, held=None):
            library_id = getattr(user, "library_id", None) if user is not None else None
            if not library_id:
                return {}
            out: dict[int, dict[int, dict]] = {}
            for service, by_cluster in (
                per_service_many(session, library_id, list(cluster_ids), SERVICES, day, held=held) or {}
            ).items():
                for cluster_id, answers in (by_cluster or {}).items():
                    for partner_id, answer in (answers or {}).items():
                        out.setdefault(cluster_id, {}).setdefault(partner_id, {})[service] = tuple(answer)
            return out

        provider.many = many
    return provider


def requestability(session, user, cluster_id: int, day: date) -> dict:
    if user is None or not getattr(user, "is_authenticated", True):
        return {}
    return requestability_provider()(session, user, cluster_id, day) or {}


def requestability_many(session, user, cluster_ids: list[int], day: date,
                        held: dict[int, Held] | None = None) -> dict[int, dict]:
    """``requestability`` of several union records: {cluster_id: answer}. A
    provider with a ``many(session, user, cluster_ids, day, held=None)``
    attribute answers them together (from ``held`` when given: a page of
    results, as the index holds them); any other is asked one record at a
    time."""
    if user is None or not getattr(user, "is_authenticated", True) or not cluster_ids:
        return {}
    provider = requestability_provider()
    many = getattr(provider, "many", None)
    if many is not None:
        return many(session, user, list(cluster_ids), day, held=held) or {}
    return {cid: provider(session, user, cid, day) or {} for cid in cluster_ids}


# --- the index ------------------------------------------------------------


def _strings(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v]


def _distinct_folded(values: Iterable[str]) -> str:
    """The values folded, each once, in order of first appearance."""
    folded = dict.fromkeys(map(searchtext.fold, values))
    folded.pop("", None)
    return " ".join(folded)


@dataclass
class IndexRow:
    cluster_id: int
    title: str
    author: str
    subject: str
    other: str
    # its records' names and subjects, as they give them: what it files
    # under for browsing (``headings``)
    names: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)

    def digest(self) -> int:
        """The words as a signed 64-bit number, the same in every process:
        kept beside the search document, so that unchanged words are not
        written again."""
        return searchtext.digest("\x1f".join((self.title, self.author, self.subject, self.other)))

    def headings_digest(self) -> int:
        """The same of its headings (``headings.digest``)."""
        return headings.digest(self.names, self.subjects)


def _title_key(title: str) -> str:
    for sep in (" : ", " / ", " = ", ": "):
        if sep in title:
            return title.split(sep)[0]
    return title


def reindex_clusters(session, cluster_ids: Iterable[int], known: dict[int, dict] | None = None,
                     upkeep: bool = True, new: Collection[int] = frozenset()) -> int:
    """Bring the search index up to date for these clusters: rebuilt for the
    ones that exist and have live members, dropped for the others. Returns
    how many are searchable now. Never commits.

    Rows are read and written straight through the driver (``bulk``): an
    import hands over thousands of clusters at a time, and only what changed
    is written (a new library's copy of an edition changes its holdings, but
    rarely its words). known: what describe() said of some records, by id,
    when the caller has it (clustering just read it): not read again.
    upkeep: keep the engine's index in shape within the transaction (see
    the engines' ``settle``; after a large reindex, fresh planner statistics
    too); False: the caller reindexes in many steps and calls
    ``upkeep_after_commit`` once its transaction is committed.
    new: clusters made in this transaction, which have nothing indexed yet
    (nothing to read back and compare)."""
    ids = sorted({int(i) for i in cluster_ids if i is not None})
    if not ids:
        return 0
    indexed = 0
    for chunk in bulk.chunks(ids, REINDEX_CHUNK):
        indexed += Reindex(session, chunk, known, new=new).write()
    if upkeep:
        engine = engine_for(session)
        engine.settle(session.connection())
        if _large(len(ids)):
            engine.analyze(session)
    return indexed


@dataclass
class Unwritten:
    """What the caller's batch has not written yet, which the database cannot
    tell a reindex: records not written (where clustering placed them:
    record id -> (cluster id, partner id)) and the copies of records whose
    items are not written (record id -> {status: copies}). Their facts come
    in ``known``."""

    homes: dict[int, tuple[int, int]] = field(default_factory=dict)
    stock: dict[int, dict[str, int]] = field(default_factory=dict)


class Reindex:
    """One reindex in two steps: ``Reindex(...)`` reads what the database has
    of the clusters; ``write()`` makes their index rows and writes what
    differs, and returns how many are searchable. An import reads before it
    writes its batch's records and items, handing over in ``unwritten`` what
    the database does not show yet, so that nothing it has just written is
    read back. Never commits."""

    def __init__(self, session, cluster_ids: Iterable[int], known: dict[int, dict] | None = None,
                 *, new: Collection[int] = frozenset(), unwritten: Unwritten | None = None):
        session.flush()
        self.conn = conn = session.connection()
        self.engine = engine_for(session)
        self.ids = ids = sorted({int(i) for i in cluster_ids if i is not None})
        self.before = [c for c in ids if c not in new]  # those that may have index rows
        known = known or {}
        unwritten = unwritten or Unwritten()
        self.clusters = {r[0]: r for r in bulk.select_among(conn, _CLUSTER_SQL, "id", ids)}
        record_home: dict[int, tuple[int, int]] = {
            rid: (cid, pid) for rid, cid, pid in bulk.select_among(
                conn, _MEMBER_SQL, "cluster_id", ids, tail=" AND withdrawn_at IS NULL")}
        wanted = set(ids)
        record_home.update((rid, home) for rid, home in unwritten.homes.items() if home[0] in wanted)
        # members clustering has just read come from its facts; the others are read here
        described: dict[int, tuple] = {}
        for rid in record_home:
            f = known.get(rid)
            if f and "title" in f:
                described[rid] = (f["title"], f.get("author"), f.get("isbns"), f.get("issns"), f)
        for rid, title, author, isbns, issns, data in bulk.select_among(
                conn, _FACTS_SQL, "id", [r for r in record_home if r not in described]):
            described[rid] = (title, author, bulk.json_value(isbns), bulk.json_value(issns),
                              bulk.json_value(data) or {})
        self.members: dict[int, list[_Member]] = defaultdict(list)
        for rid, (cid, pid) in sorted(record_home.items()):
            self.members[cid].append(_Member(rid, pid, *described[rid]))
        # records described before describe() kept subjects or names: their MARC, to read them from
        need_marc = [m.id for mems in self.members.values() for m in mems
                     if "subjects" not in m.data or "names" not in m.data]
        self.marc = {rid: bulk.json_value(marc) for rid, marc in bulk.select_among(
            conn, "SELECT id, marc FROM source_records", "id", need_marc)}
        # items by record (an indexed lookup), added up per cluster and
        # library: [items, on the shelf, {statuses}]
        self.stock: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0, set()])
        copies = bulk.select_among(
            conn, _STOCK_SQL, "source_record_id", [r for r in record_home if r not in unwritten.stock],
            tail=" GROUP BY source_record_id, status")
        told = ((rid, status, n) for rid, by_status in unwritten.stock.items() if rid in record_home
                for status, n in by_status.items())
        for rid, status, n in itertools.chain(copies, told):
            counts = self.stock[record_home[rid]]
            counts[0] += n
            counts[2].add(status)
            if status == ItemStatus.AVAILABLE:
                counts[1] += n
        # what the index has of them now, to write only what differs
        self.have_docs = _have(conn, SearchDoc.__tablename__, _DOC_COLUMNS, self.before)
        self.have_holdings = _have(conn, SearchHolding.__tablename__, _HOLDING_COLUMNS, self.before,
                                   key=2)

    def _build(self) -> tuple[list[tuple], list[tuple], list[IndexRow]]:
        """The clusters' search documents, holdings and full-text rows (no
        database)."""
        docs, holdings, rows = [], [], []
        stock = self.stock
        for cluster_id in self.ids:
            cluster, mems = self.clusters.get(cluster_id), self.members.get(cluster_id)
            if cluster is None or not mems:
                continue
            _cid, c_title, c_author, c_year, c_publisher, c_edition, c_language, c_format, c_isbns, \
                c_issns = cluster
            partners = sorted({m.partner_id for m in mems})
            for pid in partners:
                n_items, n_avail, statuses = stock.get((cluster_id, pid), _NO_STOCK)
                holdings.append((cluster_id, pid, n_items, n_avail, statuses_text(statuses)))
            idents = searchtext.described_identifier_tokens(
                list(bulk.json_value(c_isbns) or []) + [i for m in mems for i in m.isbns],
                list(bulk.json_value(c_issns) or []) + [i for m in mems for i in m.issns],
            )
            titles = [c_title] + [m.title for m in mems]
            authors = [c_author] + [m.author for m in mems]
            subjects, names = [], []
            for m in mems:
                titles += _strings(m.data.get("variant_titles"))
                authors += _strings(m.data.get("authors"))
                given = headings.of_record(m.data, lambda m=m: self.marc.get(m.id))
                names += given[0]
                subjects += given[1]
            # the numbers of a whole set, and those a record prints with a
            # wrong check digit, are found by keyword as the record gives them
            printed = [n for m in mems for key in ("isbns_set", "isbns_invalid")
                       for n in m.data.get(key) or ()]
            row = IndexRow(
                cluster_id=cluster_id,
                title=_distinct_folded(titles),
                author=_distinct_folded(authors),
                subject=_distinct_folded(subjects),
                other=" ".join(filter(None, [
                    _distinct_folded([c_publisher, c_edition]),
                    " ".join(idents),
                    _distinct_folded(printed) if printed else "",
                    str(c_year or ""),
                ])),
                names=list(dict.fromkeys(names)),
                subjects=list(dict.fromkeys(subjects)),
            )
            rows.append(row)
            docs.append((
                cluster_id,
                searchtext.padded(searchtext.fold(c_title)),
                searchtext.padded(searchtext.fold(_title_key(c_title or ""))),
                searchtext.sort_title(c_title, searchtext.filing_keys(m.data for m in mems)),
                searchtext.sort_author(c_author),
                matching.common_work_key(m.data for m in mems),
                searchtext.padded(" ".join(idents)),
                c_year,
                (c_language or "").strip().lower(),
                (c_format or "").strip().lower(),
                len(partners),
                sum(1 for pid in partners if stock.get((cluster_id, pid), _NO_STOCK)[1]),
                row.digest(),
                self.engine.holders(partners),
                row.headings_digest(),
            ))
        return docs, holdings, rows

    def write(self) -> int:
        docs, holdings, rows = self._build()
        kept = {r.cluster_id for r in rows}
        dropped = [c for c in self.before if c not in kept]
        _write_changes(self.conn, SearchDoc.__tablename__, _DOC_COLUMNS, docs, self.have_docs)
        _write_changes(self.conn, SearchHolding.__tablename__, _HOLDING_COLUMNS, holdings,
                       self.have_holdings, key=2)
        # the words, and the headings, are written where their digest changed (or was never known)
        self.engine.replace(self.conn, self._differing(rows, docs, _DIGEST), dropped)
        refiled = self._differing(rows, docs, _HEADINGS_DIGEST)
        bulk.delete_among(self.conn, headings.TABLE, "cluster_id",
                          dropped + [r.cluster_id for r in refiled if (r.cluster_id,) in self.have_docs])
        bulk.insert_rows(self.conn, headings.TABLE, _HEADING_COLUMNS,
                         [(kind, key, r.cluster_id, heading) for r in refiled
                          for kind, key, heading in headings.of_members(r.names, r.subjects)])
        return len(docs)

    def _differing(self, rows: list[IndexRow], docs: list[tuple], column: int) -> list[IndexRow]:
        """The rows whose search document's ``column`` (a digest) differs
        from the one indexed, or has none indexed."""
        had = {key[0]: have[column] for key, have in self.have_docs.items()}
        return [r for r, doc in zip(rows, docs, strict=True)
                if r.cluster_id not in had or had[r.cluster_id] != doc[column]]


_NO_STOCK = (0, 0, ())


def statuses_text(statuses: Iterable[str]) -> str:
    """A library's copies' statuses as the index keeps them: each once, sorted."""
    return " ".join(sorted(set(statuses)))


def _large(touched: int) -> bool:
    """A change large enough to refresh the planner's statistics for."""
    return touched >= ANALYZE_AFTER


def upkeep_after_commit(session, touched: int) -> None:
    """The index's upkeep after a committed change that reindexed ``touched``
    union records with ``upkeep=False`` (an import): see the engines'
    ``after_commit``. A failure is logged, never raised: the change is in."""
    if not touched:
        return
    try:
        engine_for(session).after_commit(session.get_bind(), touched)
    except Exception:  # noqa: BLE001
        log.warning("search index upkeep after a change of %d union records failed", touched,
                    exc_info=True)


def _have(conn, table: str, columns: list[tuple[str, str]], cluster_ids: list[int],
          key: int = 1) -> dict[tuple, tuple]:
    """table's rows of these clusters (the first column), by their first
    `key` columns."""
    names = ", ".join(c for c, _t in columns)
    return {tuple(r[:key]): tuple(r) for r in bulk.select_among(
        conn, f"SELECT {names} FROM {table}", columns[0][0], cluster_ids)}


def _write_changes(conn, table: str, columns: list[tuple[str, str]], rows: list[tuple],
                   have: dict[tuple, tuple], key: int = 1) -> None:
    """Make table's rows of the clusters read into `have` be `rows`, writing
    only the rows that differ; a row is known by its first `key` columns."""
    want = {r[:key]: r for r in rows}
    stale = [k for k, r in have.items() if want.get(k) != r]
    if key == 1:
        bulk.delete_among(conn, table, columns[0][0], [k[0] for k in stale])
    else:
        bulk.delete_keys(conn, table, columns[:key], stale)
    bulk.insert_rows(conn, table, columns, [r for k, r in want.items() if have.get(k) != r])


def reindex_all(session) -> int:
    """Rebuild the index of every union record (``catalog reindex``): the
    words are written again whatever their digests say, so that a rebuild
    also mends a full-text table changed behind the index's back."""
    session.execute(text("UPDATE catalog_search_docs SET words_digest = NULL, headings_digest = NULL"))
    ids = list(session.scalars(select(Cluster.id)))
    stale = list(
        session.scalars(
            select(SearchDoc.cluster_id).where(SearchDoc.cluster_id.not_in(select(Cluster.id)))
        )
    )
    return reindex_clusters(session, ids + stale) if ids or stale else 0


REINDEX_CHUNK = 2000
# The index tables, and the columns whose statistics the planner weighs
# (the filters and the joins; not the titles and identifiers, the costliest
# to analyse, which only order the hits).
ANALYZED = (f"catalog_search_docs (cluster_id, year, language, format, holders), catalog_search_holdings, "
            f"{FTS_TABLE}")
# the tables a reindex rewrites rows of, which every search reads
VACUUMED = "catalog_search_docs (cluster_id, year, language, format, holders), catalog_search_holdings"
_DOC_COLUMNS = [("cluster_id", "integer"), ("title_norm", "text"), ("title_key", "text"),
                ("title_sort", "text"), ("author_sort", "text"), ("work_key", "text"),
                ("identifiers", "text"), ("year", "integer"), ("language", "varchar"),
                ("format", "varchar"), ("libraries", "integer"), ("libraries_available", "integer"),
                ("words_digest", "bigint"), ("holders", "integer[]"), ("headings_digest", "bigint")]
_DIGEST = [c for c, _t in _DOC_COLUMNS].index("words_digest")
_HEADINGS_DIGEST = [c for c, _t in _DOC_COLUMNS].index("headings_digest")
_HEADING_COLUMNS = [("kind", "varchar"), ("filing", "text"), ("cluster_id", "integer"), ("heading", "text")]
_HOLDING_COLUMNS = [("cluster_id", "integer"), ("partner_id", "integer"), ("items", "integer"),
                    ("available", "integer"), ("statuses", "varchar")]
_CLUSTER_SQL = ("SELECT id, title, author, year, publisher, edition, language, format, isbns, issns "
                "FROM clusters")
_MEMBER_SQL = "SELECT id, cluster_id, partner_id FROM source_records"
_FACTS_SQL = "SELECT id, title, author, isbns, issns, match_data FROM source_records"
_STOCK_SQL = "SELECT source_record_id, status, count(*) FROM items"


class _Member:
    """A live member record: its library, title, author, identifiers (the
    record's columns, which the importer fills from describe()) and what
    describe() said of it."""

    __slots__ = ("id", "partner_id", "title", "author", "isbns", "issns", "data")

    def __init__(self, rid: int, pid: int, title, author, isbns, issns, data: dict):
        self.id, self.partner_id, self.data = rid, pid, data
        self.title, self.author = title or "", author or ""
        self.isbns, self.issns = isbns or [], issns or []


# --- the engines --------------------------------------------------------------

# Field names of fielded search -> the engine's column (SQLite) or weight (PostgreSQL).
FIELDS = ("title", "author", "subject", "other")


class SqliteEngine:
    name = "sqlite-fts5"
    hits_carry_holders = False  # see holders_of

    @staticmethod
    def holders_of(hits: str, where: str) -> str:
        """The library facet's rows, one per hit (``h``) and holder (``held.partner``):
        from the hits each one's holdings are looked up, never the other way
        round ("+ 0" keeps SQLite from walking the whole holdings table in
        partner order)."""
        return (f"{hits} JOIN (SELECT cluster_id, partner_id + 0 AS partner FROM catalog_search_holdings) "
                f"held ON held.cluster_id = h.cluster_id{where}")
    weights = {"title": "title", "author": "author", "subject": "subject", "other": "other"}

    @staticmethod
    def holders(partner_ids: list[int]) -> str:
        """SearchDoc.holders as written: JSON text."""
        return bulk.dumps(sorted(partner_ids))

    @staticmethod
    def held_by(alias: str, ids_sql: str) -> str:
        """The library filter: held by one of the libraries ``ids_sql`` selects."""
        return (f"EXISTS (SELECT 1 FROM catalog_search_holdings f WHERE f.cluster_id = {alias}.cluster_id "
                f"AND f.partner_id IN ({ids_sql}))")

    def replace(self, conn, rows: list[IndexRow], dropped: list[int]) -> None:
        """The words of `rows` become their clusters' rows; the clusters of
        `dropped` have none any more."""
        bulk.delete_among(conn, FTS_TABLE, "rowid", [*dropped, *(r.cluster_id for r in rows)])
        bulk.insert_rows(conn, FTS_TABLE, [("rowid", ""), ("title", ""), ("author", ""),
                                           ("subject", ""), ("other", "")],
                         [(r.cluster_id, r.title, r.author, r.subject, r.other) for r in rows])

    def analyze(self, session) -> None:
        """Nothing: SQLite's plans for search follow the shape of the statement
        (the hits are always the outer loop), not table statistics."""

    def settle(self, conn) -> None:
        """Nothing: FTS5 merges its segments as it writes."""

    def after_commit(self, bind, touched: int) -> None:
        """Nothing (see ``analyze`` and ``settle``)."""

    @staticmethod
    def expression(terms: list[tuple[str | None, searchtext.Term]]) -> str:
        """FTS5: each word, or the words of a phrase, as one string (a
        phrase's words are found side by side), '*' for a prefix, its
        column before it. Words are folded to letters and digits."""
        parts = []
        for group in searchtext.phrases(terms):
            column, last = group[-1]
            if last.variants:  # a word alone, found in any of its spellings
                phrase = "(" + " OR ".join(f'"{w}"' for w in last.spellings) + ")"
            else:
                phrase = '"' + " ".join(t.word for _c, t in group) + '"' + ("*" if last.prefix else "")
            parts.append(f"{column} : {phrase}" if column else phrase)
        return " AND ".join(parts)

    # The clusters matching every term.
    ids_sql = f"SELECT rowid AS cluster_id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_expr"

    @staticmethod
    def ranked(tier: str) -> tuple[str, str]:
        """(CTEs, query) of the candidates (``cand``) with their rank; lower is
        better. bm25 is only known while matching, so the words are matched
        again; "+" keeps SQLite matching first and testing each hit against
        the candidates, not matching once per candidate. The ranks are joined
        to the docs (by primary key), never to ``cand``, which has no index."""
        return (
            f"ranks AS MATERIALIZED (SELECT rowid AS cluster_id, bm25({FTS_TABLE}, 10.0, 5.0, 3.0, 1.0) AS rank "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_expr AND +rowid IN (SELECT cluster_id FROM cand)) ",
            f"SELECT d.cluster_id, {tier} AS tier, d.libraries, d.libraries_available, r.rank "
            "FROM ranks r JOIN catalog_search_docs d ON d.cluster_id = r.cluster_id",
        )
    def bare(self, terms):
        return text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_expr").bindparams(
            fts_expr=self.expression(terms)
        )

    def bare_ranked(self, terms, limit: int = PER_PAGE):
        """The engine's own best page, by its own rank: the floor of a ranked search."""
        return text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_expr "
            f"ORDER BY bm25({FTS_TABLE}, 10.0, 5.0, 3.0, 1.0) LIMIT {int(limit)}"
        ).bindparams(fts_expr=self.expression(terms))


class PostgresEngine:
    name = "postgresql-tsvector"
    # Each hit carries its holders (SearchDoc.holders, an integer array),
    # unnested for the library facet: several times cheaper than a lookup
    # of the holdings per hit (and unnest in the select list, cheaper than
    # a lateral join to it).
    hits_carry_holders = True

    @staticmethod
    def holders_of(hits: str, where: str) -> str:
        """The library facet's rows, one per hit (``h``) and holder (``held.partner``)."""
        return f"(SELECT unnest(h.holders) AS partner FROM {hits}{where}) held"
    weights = {"title": "A", "author": "B", "subject": "C", "other": "D"}

    @staticmethod
    def holders(partner_ids: list[int]) -> list[int]:
        """SearchDoc.holders as written: a list, an integer array."""
        return sorted(partner_ids)

    @staticmethod
    def held_by(alias: str, ids_sql: str) -> str:
        """The library filter: held by one of the libraries ``ids_sql`` selects."""
        return f"{alias}.holders && ARRAY({ids_sql})"

    def analyze(self, session) -> None:
        """Fresh planner statistics after a bulk reindex. Without them (a new
        database, or autovacuum off or not yet round) PostgreSQL guesses the
        tables' sizes and the words' frequencies, hashes whole tables where
        it should look rows up, and may even compile the search to machine
        code (JIT) for the cost it imagines: several times slower."""
        session.execute(text(f"ANALYZE {ANALYZED}"))

    def settle(self, conn) -> None:
        search_schema.settle(conn)

    def after_commit(self, bind, touched: int) -> None:
        """After a committed import that reindexed `touched` union records:
        merge the GIN pending list (see ``settle``); and when the change was
        large and, with the changes since the last time, makes a tenth of the
        index or more (autovacuum's own rule for ANALYZE), VACUUM (ANALYZE)
        the tables of the facets (a transaction cannot VACUUM) and ANALYZE
        the words' table. Besides the statistics (see ``analyze``; the
        holders' most common libraries weigh the library filter), VACUUM
        clears the rows a reindex replaced and marks the pages all-visible
        (index-only lookups of the holdings), where autovacuum may be off or
        not round yet. VACUUM skips the pages no change touched, but reads a
        GIN index whole, and a GIN index serves no index-only scan: the
        words' table is left to autovacuum."""
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            search_schema.settle(conn)
            if _large(touched) and self._stale(conn, touched):
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {VACUUMED}")
                conn.exec_driver_sql(f"ANALYZE {FTS_TABLE}")

    @staticmethod
    def _stale(conn, touched: int) -> bool:
        """Whether the union records changed since the index's last ANALYZE
        (this change counted in, whether or not the server's statistics have
        it yet) make STALE_SHARE of those it had then, or it never had one."""
        tuples, changed = conn.exec_driver_sql(
            "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = 'catalog_search_docs'::regclass").one()
        return tuples <= 0 or changed + touched >= STALE_SHARE * tuples

    def replace(self, conn, rows: list[IndexRow], dropped: list[int]) -> None:
        """The words of `rows` become their clusters' rows; the clusters of
        `dropped` have none any more. A vector equal to the one indexed is
        not written again: each write costs the GIN index an entry per word."""
        bulk.delete_among(conn, FTS_TABLE, "cluster_id", dropped)
        if rows:
            # the words go in by COPY to a table of this transaction, then to
            # the index in one statement: the server's bulk path both ways
            conn.exec_driver_sql(search_schema.STAGE_STATEMENT)
            bulk.insert_rows(conn, search_schema.FTS_STAGE, search_schema.FTS_STAGE_COLUMNS,
                             [(r.cluster_id, r.title, r.author, r.subject, r.other) for r in rows])
            conn.exec_driver_sql(
                f"INSERT INTO {FTS_TABLE} AS f (cluster_id, doc) SELECT cluster_id, "
                "setweight(to_tsvector('simple', title), 'A') || "
                "setweight(to_tsvector('simple', author), 'B') || "
                "setweight(to_tsvector('simple', subject), 'C') || "
                "setweight(to_tsvector('simple', other), 'D') "
                f"FROM {search_schema.FTS_STAGE} "
                "ON CONFLICT (cluster_id) DO UPDATE SET doc = excluded.doc "
                "WHERE f.doc IS DISTINCT FROM excluded.doc")
            conn.exec_driver_sql(f"TRUNCATE {search_schema.FTS_STAGE}")

    def expression(self, terms) -> str:
        """tsquery: words joined by '&', the words of a phrase by '<->'
        (the next position). A document's fields are one tsvector, each
        following the one before, so a phrase asked for in any field is
        asked for in each field alone (by its weight): never the last word
        of a title and the first of an author."""
        parts = []
        for group in searchtext.phrases(terms):
            column = group[-1][0]
            if column:
                weights = [self.weights[column]]
            else:
                weights = list(self.weights.values()) if len(group) > 1 else [""]
            # Words are folded to letters and digits, so they need no quoting;
            # a word alone is found in any of its spellings.
            alternatives = [" <-> ".join(
                f"{t.word}:{'*' if t.prefix else ''}{weight}" if t.prefix or (weight and not t.variants)
                else "(" + " | ".join(f"{w}{':' + weight if weight else ''}" for w in t.spellings) + ")"
                if t.variants else t.word for _c, t in group) for weight in weights]
            parts.append(alternatives[0] if len(alternatives) == 1
                         else "(" + " | ".join(f"({a})" for a in alternatives) + ")")
        return " & ".join(parts)

    ids_sql = f"SELECT cluster_id FROM {FTS_TABLE} WHERE doc @@ to_tsquery('simple', :fts_expr)"

    @staticmethod
    def ranked(tier: str) -> tuple[str, str]:
        """The candidates matched already: each one's rank alone is worked out,
        looked up by key (a lateral lookup, whatever the estimate of their
        number: OFFSET 0 keeps PostgreSQL from flattening it into a hash join
        that reads every document's words to rank a page of them)."""
        return (
            "",
            "SELECT c.cluster_id, c.tier, c.libraries, c.libraries_available, r.rank FROM cand c "
            f"CROSS JOIN LATERAL (SELECT -ts_rank(f.doc, to_tsquery('simple', :fts_expr)) AS rank "
            f"FROM {FTS_TABLE} f WHERE f.cluster_id = c.cluster_id OFFSET 0) r",
        )

    def bare(self, terms):
        return text(
            f"SELECT cluster_id FROM {FTS_TABLE} WHERE doc @@ to_tsquery('simple', :fts_expr)"
        ).bindparams(fts_expr=self.expression(terms))

    def bare_ranked(self, terms, limit: int = PER_PAGE):
        return text(
            f"SELECT cluster_id FROM {FTS_TABLE}, to_tsquery('simple', :fts_expr) q "
            f"WHERE doc @@ q ORDER BY ts_rank(doc, q) DESC LIMIT {int(limit)}"
        ).bindparams(fts_expr=self.expression(terms))


def engine_for(session):
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return SqliteEngine()
    if name == "postgresql":
        return PostgresEngine()
    raise CatalogError(f"Search does not support the {name} database.")


# --- queries ------------------------------------------------------------------


@dataclass
class Query:
    q: str = ""
    title: str = ""
    author: str = ""
    subject: str = ""
    isbn: str = ""
    issn: str = ""
    year_from: int | None = None
    year_to: int | None = None
    libraries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE
    sort: str = DEFAULT_SORT
    # only what has a copy on the shelf (in the libraries chosen, or any)
    available: bool = False
    # the first hit's position (0-based) where it is not a page's first: SRU's startRecord
    start: int | None = None
    # (field, words): at least one of the words in that field ("q": anywhere),
    # as SRU's "any" asks; no query string says it
    alternatives: list = field(default_factory=list)
    # only the union records filed under this author or subject heading
    # (union_catalog.headings), as a heading browsed or on a record's page
    author_heading: str = ""
    subject_heading: str = ""

    TEXT_FIELDS = ("q", "title", "author", "subject", "isbn", "issn", "author_heading", "subject_heading")

    @property
    def offset(self) -> int:
        """How many hits come before the first one shown."""
        return self.start if self.start is not None else (self.page - 1) * self.per_page

    @property
    def empty(self) -> bool:
        """Nothing asked: no words, no filter, and the default order (an
        order asked for alone, as the newest union records, lists them all)."""
        return not any(getattr(self, f).strip() for f in self.TEXT_FIELDS) and not (
            self.year_from or self.year_to or self.libraries or self.languages or self.formats
            or self.available or self.alternatives or self.sort != DEFAULT_SORT
        )

    def args(self, **changes) -> dict:
        """The query string of this search, with changes (for links)."""
        out: dict = {}
        for name in self.TEXT_FIELDS:
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.year_from:
            out["year_from"] = self.year_from
        if self.year_to:
            out["year_to"] = self.year_to
        if self.libraries:
            out["library"] = list(self.libraries)
        if self.languages:
            out["language"] = list(self.languages)
        if self.formats:
            out["format"] = list(self.formats)
        if self.available:
            out["available"] = 1
        if self.per_page != PER_PAGE:
            out["per_page"] = self.per_page
        out["sort"] = self.sort
        out.update(changes)
        if out["sort"] == DEFAULT_SORT:  # said by saying nothing
            del out["sort"]
        return {k: v for k, v in out.items() if v not in (None, "", [])}

    def toggled(self, facet: str, value: str) -> dict:
        """The query string with one facet value switched on or off, page 1."""
        attr = {"library": "libraries", "language": "languages", "format": "formats"}[facet]
        values = list(getattr(self, attr))
        values = [v for v in values if v != value] if value in values else values + [value]
        return self.args(**{facet: values, "page": None})


def _int_arg(args, name: str, label: str, low: int | None = None, high: int | None = None):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise CatalogError(
            _("%(field)s must be a whole number, not '%(value)s'.", field=label, value=raw[:40]),
            field=name,
        )
    if (low is not None and value < low) or (high is not None and value > high):
        raise CatalogError(
            _(
                "%(field)s must be between %(low)d and %(high)d, not %(value)d.",
                field=label,
                low=low,
                high=high,
                value=value,
            ),
            field=name,
        )
    return value


def _flag_arg(args, name: str, label: str) -> bool:
    raw = (args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise CatalogError(_("%(field)s is 1 or 0, not '%(value)s'.", field=label, value=raw[:40]), field=name)


def _list_arg(args, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else _strings(args.get(name))
    out = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def parse_query(args) -> Query:
    """The search asked for in a query string; CatalogError (400) names the bad field."""
    query = Query(
        q=(args.get("q") or "").strip()[:500],
        title=(args.get("title") or "").strip()[:500],
        author=(args.get("author") or "").strip()[:500],
        subject=(args.get("subject") or "").strip()[:500],
        isbn=searchtext.identifier_box((args.get("isbn") or "")[:100]),
        author_heading=(args.get("author_heading") or "").strip()[:500],
        subject_heading=(args.get("subject_heading") or "").strip()[:500],
        issn=searchtext.identifier_box((args.get("issn") or "")[:100]),
        year_from=_int_arg(args, "year_from", _l("Year from"), 0, 9999),
        year_to=_int_arg(args, "year_to", _l("Year to"), 0, 9999),
        libraries=[c.upper() for c in _list_arg(args, "library")],
        languages=[c.lower() for c in _list_arg(args, "language")],
        formats=[c.lower() for c in _list_arg(args, "format")],
        page=_int_arg(args, "page", _l("Page"), 1, 100000) or 1,
        per_page=_int_arg(args, "per_page", _l("Results per page"), 1, MAX_PER_PAGE) or PER_PAGE,
        sort=(args.get("sort") or "").strip().lower() or DEFAULT_SORT,
        available=_flag_arg(args, "available", _l("On the shelf")),
    )
    if query.sort not in SORTS:
        raise CatalogError(
            _("Results cannot be sorted by '%(value)s': sort by %(choices)s.",
              value=query.sort[:40], choices=", ".join(SORTS)),
            field="sort",
        )
    if query.year_from and query.year_to and query.year_from > query.year_to:
        raise CatalogError(
            _(
                "The year range runs backwards: from %(a)d to %(b)d.",
                a=query.year_from,
                b=query.year_to,
            ),
            field="year_from",
        )
    for name in ("q", "title", "author", "subject"):
        value = getattr(query, name)
        if value and not searchtext.parse_text(value):
            raise CatalogError(
                _("'%(value)s' has no word to search for: type letters or numbers.", value=value),
                field=name)
    for kind, name in headings.FILTERS.items():
        value = getattr(query, name)
        if value and not headings.filing(kind, value):
            raise CatalogError(
                _("'%(value)s' is not a heading: it has no letter or number.", value=value[:40]),
                field=name)
    if query.isbn and not searchtext.isbn13(query.isbn):
        raise CatalogError(
            _(
                "'%(value)s' is not a valid ISBN: check the digits (10 or 13, "
                "the last one a check digit).",
                value=query.isbn,
            ),
            field="isbn",
        )
    if query.issn and not searchtext.issn8(query.issn):
        raise CatalogError(
            _(
                "'%(value)s' is not a valid ISSN: it has 8 characters, the last one a check digit.",
                value=query.issn,
            ),
            field="issn",
        )
    return query


@dataclass
class Plan:
    """A query turned into engine terms and ranking hints."""

    terms: list = field(default_factory=list)  # (column or None, Term)
    exact_title: str = ""  # folded text an exact title match equals
    title_words: list = field(default_factory=list)  # Terms all in the title: a better hit
    identifiers: list = field(default_factory=list)


def plan(query: Query) -> Plan:
    p = Plan()
    keyword = searchtext.parse_text(query.q)
    p.terms += [(None, t) for t in keyword.terms]
    p.identifiers += keyword.identifiers
    for name in ("title", "author", "subject"):
        parsed = searchtext.parse_text(getattr(query, name))
        p.terms += [(name, t) for t in parsed.terms]
    if query.isbn:
        p.terms.append(("other", searchtext.Term(searchtext.isbn13(query.isbn))))
        p.identifiers.append(searchtext.isbn13(query.isbn))
    if query.issn:
        p.terms.append(("other", searchtext.Term(searchtext.issn8(query.issn))))
        p.identifiers.append(searchtext.issn8(query.issn))
    title_text = searchtext.parse_text(query.title) if query.title else keyword
    words = [t for t in title_text.terms if t.word not in title_text.identifiers]
    if words:
        p.exact_title = " ".join(t.word for t in words)
        p.title_words = words
    for name, typed in query.alternatives:
        # one term found in any of its spellings: each word typed and its variants
        # (numbers as the index holds them, in its "other" field)
        number = name in ("isbn", "issn")
        spellings = list(dict.fromkeys(typed if number else (
            s for word in typed for w in searchtext.words(word) for s in (w, *variants.of(w)))))
        if spellings:
            term = searchtext.Term(spellings[0], variants=tuple(spellings[1:]))
            p.terms.append(("other" if number else None if name == "q" else name, term))
            if number:
                p.identifiers += spellings
            elif name == "title":
                p.title_words.append(term)
    return p


@dataclass
class Page:
    total: int
    page: int
    per_page: int
    results: list[dict]
    facets: dict[str, dict]
    query: Query
    # a spelling that finds more, for a search that finds little (``suggest``)
    suggestion: dict | None = None
    # the words typed that were also searched in other spellings: {word: [spellings]}
    also_spelled: dict[str, list[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class Searcher:
    """One search over the index, in one statement: the engine finds the words
    once (a materialized CTE), and the total, the facets and the page are all
    counted from that one set (see ``statement``); the partner libraries
    (codes and names, for the facet and the page) come with them, and the
    library filter names its libraries by code.

    The statement is SQL text, built from the shape of the query (which
    filters, how many values, how many words) with every value bound; each
    text is parsed once (``_text``) and SQLAlchemy's cache keeps its compiled
    form, so a search costs the database's work and little else."""

    def __init__(self, session, query: Query):
        self.session = session
        self.query = query
        self.engine = engine_for(session)
        self.plan = plan(query)
        self.partners: dict[int, dict] = {}  # {id: {"code", "name"}}, read by ``run``

    def _conds(self, params: dict, exclude: str | None = None) -> list[str]:
        """The filters over ``h`` (the hits), all but the ``exclude`` facet's."""
        q = self.query
        conds = []
        if q.year_from is not None and exclude != "year":
            params["year_from"] = q.year_from
            conds.append("h.year >= :year_from")
        if q.year_to is not None and exclude != "year":
            params["year_to"] = q.year_to
            conds.append("h.year <= :year_to")
        for name, values in (("language", q.languages), ("format", q.formats)):
            if values and exclude != name:
                conds.append(f"h.{name} IN ({_binds(params, name, values)})")
        if q.libraries and exclude != "library":
            conds.append("h.held_here = 1" if self.plan.terms else self._held_here(params, "h"))
        if q.available and not self.plan.terms:  # with words, the hits are only those (statement)
            conds.append(self._on_shelf(params, "h"))
        return conds

    def _on_shelf(self, params: dict, alias: str) -> str:
        """A copy on the shelf: in one of the libraries asked for, or in any."""
        if not self.query.libraries:
            return f"{alias}.libraries_available > 0"
        codes = _binds(params, "shelf", self.query.libraries)
        return (f"EXISTS (SELECT 1 FROM catalog_search_holdings f WHERE f.cluster_id = {alias}.cluster_id "
                f"AND f.available > 0 AND f.partner_id IN (SELECT id FROM partners WHERE code IN ({codes})))")

    def _held_here(self, params: dict, alias: str) -> str:
        """Held by one of the libraries asked for (the library filter)."""
        codes = _binds(params, "library", self.query.libraries)
        return self.engine.held_by(alias, f"SELECT id FROM partners WHERE code IN ({codes})")

    def _under_headings(self, params: dict, alias: str) -> list[str]:
        """The heading filters (no facet counts without them): over the search documents."""
        return [f"{alias}.{headings.restriction(kind, getattr(self.query, name), params, name)}"
                for kind, name in headings.FILTERS.items() if getattr(self.query, name)]

    def _where(self, params: dict, exclude: str | None = None) -> str:
        conds = self._conds(params, exclude)
        return (" WHERE " + " AND ".join(conds)) if conds else ""

    def _tier(self, params: dict) -> str:
        """4: an identifier, or the whole title exactly; 3: the title proper
        (before " : ") exactly; 2: every word in the title; 1: elsewhere."""
        best = []
        for i, ident in enumerate(self.plan.identifiers):
            params[f"ident_{i}"] = f"% {ident} %"
            best.append(f"d.identifiers LIKE :ident_{i}")
        if self.plan.exact_title:
            params["exact"] = searchtext.padded(self.plan.exact_title)
            best.append("d.title_norm = :exact")
        whens = ""
        if best:
            whens += f" WHEN {' OR '.join(best)} THEN 4"
        if self.plan.exact_title:
            whens += " WHEN d.title_key = :exact THEN 3"
        if self.plan.title_words:
            in_title = []
            for i, group in enumerate(searchtext.phrases([(None, t) for t in self.plan.title_words])):
                last = group[-1][1]
                if last.variants:  # a word alone: any of its spellings in the title
                    tests = []
                    for j, spelling in enumerate(last.spellings):
                        params[f"word_{i}_{j}"] = f"% {spelling} %"
                        tests.append(f"d.title_norm LIKE :word_{i}_{j}")
                    in_title.append(f"({' OR '.join(tests)})")
                    continue
                said = " ".join(t.word for _c, t in group)
                params[f"word_{i}"] = f"% {said}{'' if last.prefix else ' '}%"
                in_title.append(f"d.title_norm LIKE :word_{i}")
            whens += f" WHEN {' AND '.join(in_title)} THEN 2"
        return f"CASE{whens} ELSE 1 END" if whens else "1"

    def statement(self) -> tuple:
        """The SQL text of this search and its values.

        With words to find, the engine's rank (bm25 / ts_rank, the costliest
        part of a ranked search) is worked out only for the hits that can be
        on the page: the order is tier, holders, holders with a copy on the
        shelf, then rank, so every hit on the page ranks at or above the
        ``edge`` (tier, holders, on the shelf) of the page's last place; the
        candidates (``cand``) are the hits at or above it, and they alone are
        ranked (``ranks``). The total and the facets count the hits without a
        rank. Sorted by year, title or author (``SORTS``), no hit is ranked:
        the page is the hits in that order."""
        q = self.query
        params: dict = {"limit": q.per_page, "offset": q.offset}
        carry = self.engine.hits_carry_holders  # for the library facet (see the engines' holders_of)
        sorted_by = SORTS[q.sort]  # None: by relevance
        order = sorted_by or "tier DESC, libraries DESC, libraries_available DESC, rank, cluster_id"
        filing = SORT_COLUMNS.get(q.sort, ())  # what the order reads besides relevance's columns

        def also(alias: str) -> str:
            return "".join(f", {alias}{column}" for column in filing)

        if self.plan.terms:
            params["fts_expr"] = self.engine.expression(self.plan.terms)
            tier = self._tier(params)
            # The library filter is looked up once per hit, here, not in every count.
            held_here = f", CASE WHEN {self._held_here(params, 'd')} THEN 1 ELSE 0 END AS held_here" \
                if q.libraries else ""
            within = ([self._on_shelf(params, "d")] if q.available else []) + self._under_headings(params, "d")
            head = (
                "WITH hits AS MATERIALIZED (SELECT d.cluster_id, d.year, d.language, d.format, d.libraries, "
                f"d.libraries_available, {tier} AS tier{held_here}{', d.holders' if carry else ''}"
                f"{also('d.')} "
                f"FROM ({self.engine.ids_sql}) m JOIN catalog_search_docs d ON d.cluster_id = m.cluster_id"
                f"{' WHERE ' + ' AND '.join(within) if within else ''})"
            )
            if sorted_by is None:
                params["last"] = q.offset + q.per_page - 1
                edge = ["(e.tier IS NULL OR (h.tier, h.libraries, h.libraries_available) "
                        ">= (e.tier, e.libraries, e.libraries_available))"]
                head += (
                    ", edge AS (SELECT h.tier, h.libraries, h.libraries_available FROM hits "
                    f"h{self._where(params)} ORDER BY h.tier DESC, h.libraries DESC, h.libraries_available DESC "
                    "LIMIT 1 OFFSET :last), "
                    "cand AS MATERIALIZED (SELECT h.cluster_id, h.tier, h.libraries, h.libraries_available "
                    f"FROM hits h LEFT JOIN edge e ON 1 = 1 WHERE {' AND '.join(self._conds(params) + edge)})"
                )
                ranks, page = self.engine.ranked(tier)
                head += (", " + ranks) if ranks else " "
            else:
                # Sorted by year, title or author: no rank to work out, every hit in that order.
                head += " "
                page = (f"SELECT h.cluster_id, h.tier, h.libraries, h.libraries_available, 0 AS rank, "
                        f"h.year{also('h.')} FROM hits h{self._where(params)}")
            hits = "hits h"
        else:
            # Browsing by filters alone: every record, in holders' order (or the one asked for).
            head = ""
            within = self._under_headings(params, "d")
            hits = "(SELECT cluster_id, year, language, format, libraries, libraries_available, " \
                   f"0 AS rank, 1 AS tier{', holders' if carry else ''}{also('')} " \
                   f"FROM catalog_search_docs d{' WHERE ' + ' AND '.join(within) if within else ''}) h"
            page = (
                "SELECT h.cluster_id, h.tier, h.libraries, h.libraries_available, h.rank, "
                f"h.year{also('h.')} FROM {hits}{self._where(params)}"
            )
        n2 = ", CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER)"
        parts = [
            "SELECT 'page', CAST(NULL AS VARCHAR), cluster_id, row_number() OVER (ORDER BY "
            f"{order}){n2} FROM (SELECT * FROM ({page}) p ORDER BY {order} LIMIT :limit OFFSET :offset) top",
        ]
        if self.plan.terms:
            # The total and the year, language and format facets from one pass
            # over the hits, grouped by all three (and the library filter):
            # ``run`` adds up each facet with the other facets' filters.
            held = "h.held_here" if q.libraries else "1"
            parts.append(
                f"SELECT 'cube', h.language, h.year, count(*), h.format, {held} FROM hits h "
                f"GROUP BY h.year, h.language, h.format, {held}"
            )
        else:
            parts += [
                f"SELECT 'total', CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER), count(*){n2} "
                f"FROM {hits}{self._where(params)}",
                f"SELECT 'year', CAST(NULL AS VARCHAR), h.year, count(*){n2} FROM {hits}"
                f"{self._where(params, 'year')} GROUP BY h.year",
            ]
            for name in ("language", "format"):
                parts.append(
                    f"SELECT '{name}', h.{name}, CAST(NULL AS INTEGER), count(*){n2} FROM {hits}"
                    f"{self._where(params, name)} GROUP BY h.{name}"
                )
        parts.append("SELECT 'partner', code, id, CAST(NULL AS INTEGER), name, CAST(NULL AS INTEGER) FROM partners")
        parts.append(
            f"SELECT 'library', CAST(NULL AS VARCHAR), held.partner, count(*){n2} "
            f"FROM {self.engine.holders_of(hits, self._where(params, 'library'))} GROUP BY held.partner"
        )
        return _text(head + " UNION ALL ".join(parts)), params

    def run(self) -> tuple[int, list[int], dict[str, dict]]:
        q = self.query
        total, page, facets = 0, [], {"library": {}, "year": {}, "language": {}, "format": {}}
        by_year: dict = defaultdict(int)
        by_language: dict = defaultdict(int)
        by_format: dict = defaultdict(int)
        counts = {"year": by_year, "language": by_language, "format": by_format}
        languages, formats = set(q.languages), set(q.formats)
        by_library: dict[int, int] = {}
        sql, params = self.statement()
        for kind, key_text, key_int, n, text2, int2 in self.session.execute(sql, params):
            if kind == "cube":
                # Which filters this cell passes, judged as the SQL would (a
                # year filter leaves out records without a year); each facet
                # counts the cells that pass every filter but its own.
                y = (q.year_from is None or (key_int is not None and key_int >= q.year_from)) and (
                    q.year_to is None or (key_int is not None and key_int <= q.year_to)
                )
                lang = not languages or key_text in languages
                fmt = not formats or text2 in formats
                lib = not q.libraries or int2 == 1
                if lang and fmt and lib:
                    by_year[key_int] += n
                    if y:
                        total += n
                if y and fmt and lib:
                    by_language[key_text] += n
                if y and lang and lib:
                    by_format[text2] += n
            elif kind == "total":
                total = n
            elif kind == "page":
                page.append((n, key_int))
            elif kind == "library":
                by_library[key_int] = n
            elif kind == "partner":
                self.partners[key_int] = {"code": key_text, "name": text2}
            elif kind == "year":
                counts["year"][key_int] += n
            else:
                counts[kind][key_text] += n
        known = {p["code"] for p in self.partners.values()}
        unknown = [c for c in q.libraries if c not in known]
        if unknown:
            raise CatalogError(
                _("No partner library with the code %(code)s.", code=unknown[0]), field="library"
            )
        for pid, n in by_library.items():
            if pid in self.partners:
                facets["library"][self.partners[pid]["code"]] = n
        for key, n in counts["year"].items():
            if key is not None and n:
                facets["year"][str(key)] = n
        for name in ("language", "format"):
            facets[name] = {key: n for key, n in counts[name].items() if key and n}
        for name in ("library", "language", "format"):
            facets[name] = dict(sorted(facets[name].items(), key=lambda kv: (-kv[1], kv[0])))
        facets["year"] = dict(sorted(facets["year"].items(), reverse=True))
        return total, [cid for _, cid in sorted(page)], facets


def _binds(params: dict, name: str, values) -> str:
    """Bind each value as ``:name_i``; the placeholders, comma-separated."""
    out = []
    for i, value in enumerate(values):
        params[f"{name}_{i}"] = value
        out.append(f":{name}_{i}")
    return ", ".join(out)


@lru_cache(maxsize=512)
def _text(sql: str):
    """One TextClause per statement text, so it is parsed once."""
    return text(sql)


def _partners(session) -> dict[int, dict]:
    return {
        pid: {"code": code, "name": name}
        for pid, code, name in session.execute(_text("SELECT id, code, name FROM partners"))
    }


def results(session, query: Query) -> tuple[int, list[dict]]:
    """A search's total and its page's rows, for another form of the same
    answer (an Atom feed, an SRU response, a citation file): as ``search``
    gives them to a visitor, without a spelling looked for."""
    searcher = Searcher(session, query)
    total, ids, _facets = searcher.run()
    return total, summaries(session, ids, None, clock.today(), searcher.partners)


def search(session, query: Query, user=None, day: date | None = None) -> Page:
    day = day or clock.today()
    searcher = Searcher(session, query)
    total, ids, facets = searcher.run()
    results = summaries(session, ids, user, day, searcher.partners)
    also_spelled = {t.word: list(t.variants) for _c, t in searcher.plan.terms if t.variants}
    return Page(
        total=total,
        page=query.page,
        per_page=query.per_page,
        results=results,
        facets=facets,
        query=query,
        suggestion=suggest.suggestion(session, query, total),
        also_spelled=also_spelled,
    )


@lru_cache(maxsize=1)
def _page_statements():
    """The reads of a page's summaries, made once: the union records'
    columns, and their holdings (per library, items, how many are on the
    shelf and the statuses of its copies) as the index holds them. The index
    (``SearchHolding``) is what every change to a cluster, its members or
    their items' status brings up to date (``reindex_clusters``), and what
    the ranking by copies on the shelf reads too."""
    c = Cluster.__table__
    h = SearchHolding.__table__
    ids = bindparam("ids", expanding=True)
    return (
        select(c.c.id, c.c.title, c.c.author, c.c.year, c.c.publisher, c.c.edition, c.c.language, c.c.format,
               c.c.isbns, c.c.issns).where(c.c.id.in_(ids)),
        select(h.c.cluster_id, h.c.partner_id, h.c["items"], h.c.available, h.c.statuses)
        .where(h.c.cluster_id.in_(ids)),
    )


def _page_reads(session, ids: list[int]) -> tuple[dict, dict[int, dict[int, dict]]]:
    """{cluster_id: its row} and, per cluster and partner, {"items", "available", "statuses"}."""
    of_clusters, of_holdings = _page_statements()
    params = {"ids": list(ids)}
    clusters = {row.id: row for row in session.execute(of_clusters, params).all()}
    stock: dict[int, dict[int, dict]] = defaultdict(dict)
    for cluster_id, partner_id, items, available, statuses in session.execute(of_holdings, params).all():
        stock[cluster_id][partner_id] = {"items": items, "available": available,
                                         "statuses": tuple(statuses.split())}
    return clusters, stock


def _answer(per_service: dict | None, no_agreement: str | None = None) -> dict:
    """{"loan": {"requestable", "reason"}, "copy": ...} from a provider's answer."""
    out = {}
    per_service = per_service or {}
    for service in SERVICES:
        answer = per_service.get(service)
        if answer is None:
            answer = (False, no_agreement if no_agreement is not None else _("no agreement"))
        ok, reason = answer
        out[service] = {"requestable": bool(ok), "reason": "" if ok else str(reason or "")}
    return out


def summaries(session, ids: list[int], user, day: date, partners: dict | None = None) -> list[dict]:
    """Result rows, in the order of ``ids``."""
    if not ids:
        return []
    partners = partners or _partners(session)
    clusters, stock = _page_reads(session, ids)
    signed_in = user is not None and getattr(user, "library_id", None)
    # judged from what the index holds of each library's copies (their
    # statuses), not from every record and item of the page's union records
    held = {cid: Held(clusters[cid].format, {pid: slot["statuses"] for pid, slot in stock.get(cid, {}).items()},
                      clusters[cid].year)
            for cid in ids if cid in clusters}
    page_answers = requestability_many(session, user, list(held), day, held=held) if signed_in else {}
    no_agreement = _("no agreement") if signed_in else None
    fresh = freshness_kept(session, day)  # "available" is as of each library's last statuses
    out = []
    for cid in ids:
        cluster = clusters.get(cid)
        if cluster is None:
            continue
        answers = page_answers.get(cid, {}) if signed_in else {}
        holdings = []
        for pid, slot in sorted(
            stock.get(cid, {}).items(),
            key=lambda kv: (-kv[1]["available"], partners.get(kv[0], {}).get("code", "")),
        ):
            if pid not in partners:
                continue
            if signed_in:
                services = _answer(answers.get(pid), no_agreement)
                requestable = any(s["requestable"] for s in services.values())
                offered = [s for s in SERVICES if services[s]["requestable"]]
            else:
                requestable = offered = None
            holdings.append(
                {
                    "library": partners[pid]["code"],
                    "library_name": partners[pid]["name"],
                    "items": slot["items"],
                    "available": slot["available"],
                    "requestable": requestable,
                    "services": offered,
                    "as_of": known.as_of.isoformat() if (known := fresh.get(pid)) else None,
                    "stale": bool(known and known.stale),
                }
            )
        out.append({**_description(cluster), "holdings": holdings})
    return out


def _description(cluster) -> dict:
    """A union record's description, as a search result and the record page give it."""
    return {
        "id": cluster.id,
        "title": cluster.title,
        "author": cluster.author,
        "year": cluster.year,
        "publisher": cluster.publisher,
        "edition": cluster.edition,
        "language": cluster.language,
        "format": cluster.format,
        "isbn": list(cluster.isbns or []),
        "issn": list(cluster.issns or []),
    }


# --- the record -------------------------------------------------------------


def is_staff(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "role", None) in STAFF_ROLES
    )


def current_id(session, cluster_id: int) -> int | None:
    """Where a link to union record ``cluster_id`` leads now: to itself, or to
    the union record it was merged into (followed to the end, since that one
    may have been merged in turn); None when there never was such a record."""
    seen: set[int] = set()
    cid: int | None = cluster_id
    while cid is not None and cid not in seen:
        seen.add(cid)
        row = session.execute(select(Cluster.merged_into_id).where(Cluster.id == cid)).first()
        if row is None:
            return None
        if row[0] is None:
            return cid
        cid = row[0]
    return cid


OTHER_EDITIONS_SHOWN = 20


def other_editions(session, cluster_id: int, user=None, day: date | None = None,
                   partners: dict | None = None) -> tuple[list[dict], int]:
    """The other union records of this one's work (``SearchDoc.work_key``:
    the same title proper and first author, another edition, volume or
    printing), newest first, the first OTHER_EDITIONS_SHOWN of them, and how
    many there are: where one edition cannot be had, another may. Each says
    how many libraries hold it and have a copy on the shelf, and, for a
    signed-in user of a library, whether it can be requested (as a search
    result says: ``summaries``); null for others."""
    d, c = SearchDoc.__table__, Cluster.__table__
    own = select(d.c.work_key).where(d.c.cluster_id == cluster_id, d.c.work_key != "").scalar_subquery()
    others = (d.c.work_key == own, d.c.cluster_id != cluster_id)
    volumes = dict(session.execute(
        select(c.c.id, c.c.volume).join(d, d.c.cluster_id == c.c.id).where(*others)
        .order_by(c.c.year.is_(None), c.c.year.desc(), c.c.id).limit(OTHER_EDITIONS_SHOWN)).all())
    # counted only when the page is full: most works have a few editions
    total = len(volumes) if len(volumes) < OTHER_EDITIONS_SHOWN else session.scalar(
        select(func.count()).select_from(d).where(*others))
    out = []
    for row in summaries(session, list(volumes), user, day or clock.today(), partners):
        held = row.pop("holdings")
        requestable = [h["requestable"] for h in held if h["requestable"] is not None]
        out.append({**{k: row[k] for k in ("id", "title", "edition", "publisher", "year")},
                    "volume": volumes[row["id"]] or "", "libraries": len(held),
                    "available_at": sum(1 for h in held if h["available"]),
                    "requestable": any(requestable) if requestable else None})
    return out, total


def visible_members(session, cluster_id: int, staff: bool) -> list[SourceRecord]:
    """The records of a union record that its page shows, by library and
    position in the file: the live ones and, for staff, those withdrawn
    from it (last, marked so). No such union record: 404; one whose records
    were all withdrawn is gone for patrons and visitors (410)."""
    if session.get(Cluster, cluster_id) is None:
        raise NotFound(_("No union record with the number %(id)s.", id=cluster_id))
    from .clustering import withdrawn_evidence

    order = (SourceRecord.withdrawn_at.is_not(None), SourceRecord.partner_id, SourceRecord.ordinal)
    live = list(session.scalars(select(SourceRecord).where(SourceRecord.cluster_id == cluster_id)
                                .order_by(*order)))
    if not live and not staff:
        raise Gone(_("Union record %(id)s was withdrawn: no partner library holds it any more.",
                     id=cluster_id))
    if staff:
        # a withdrawn record leaves its union record, and keeps where it was in
        # its match evidence: staff still see it there, marked withdrawn
        live += session.scalars(
            select(SourceRecord)
            .where(SourceRecord.cluster_id.is_(None), SourceRecord.withdrawn_at.is_not(None),
                   SourceRecord.match_evidence == withdrawn_evidence(cluster_id))
            .order_by(*order))
    return live


def record_headings(members: Iterable[SourceRecord]) -> tuple[list[str], list[str]]:
    """A union record's name headings (1XX, 7XX: authors, editors, bodies)
    and subjects: its records', each once, in order (``headings.of_record``)."""
    names: dict[str, None] = {}
    subjects: dict[str, None] = {}
    for m in members:
        given = headings.of_record(m.match_data or {}, lambda m=m: m.marc)
        names.update(dict.fromkeys(given[0]))
        subjects.update(dict.fromkeys(given[1]))
    return list(names), list(subjects)


def record(session, cluster_id: int, user=None, day: date | None = None) -> dict:
    """A union record, its members and, per library, items and requestability.
    A union record whose records were all withdrawn is gone for patrons and
    visitors (410); staff see it with the records it had. A merged one is
    reached through ``current_id`` (the pages redirect)."""
    day = day or clock.today()
    staff = is_staff(user)
    members = visible_members(session, cluster_id, staff)
    cluster = session.get(Cluster, cluster_id)  # read by visible_members: no second query
    partners = _partners(session)
    live = [m for m in members if m.withdrawn_at is None]
    signed_in = user is not None and getattr(user, "library_id", None)
    answers = requestability(session, user, cluster_id, day) if signed_in else {}

    by_partner: dict[int, dict] = {}
    for m in live:
        slot = by_partner.setdefault(m.partner_id, {"items": [], "call_numbers": []})
        for item in m.items:
            slot["items"].append(
                {
                    "call_number": item.call_number,
                    "location": item.location,
                    "status": item.status,
                    "coverage": item.coverage,
                    "note": item.note,
                    **({"barcode": item.barcode} if staff else {}),
                }
            )
            if item.call_number and item.call_number not in slot["call_numbers"]:
                slot["call_numbers"].append(item.call_number)
    holdings = []
    fresh = freshness(session, day)
    for pid, slot in by_partner.items():
        if pid not in partners:
            continue
        known = fresh.get(pid)
        services = _answer(answers.get(pid)) if signed_in else None
        available = sum(1 for i in slot["items"] if i["status"] == ItemStatus.AVAILABLE)
        requestable = any(s["requestable"] for s in services.values()) if services else None
        reason = None
        if services is not None and not requestable:
            reasons = []
            for s in SERVICES:
                if services[s]["reason"] and services[s]["reason"] not in reasons:
                    reasons.append(services[s]["reason"])
            reason = "; ".join(reasons)
        holdings.append(
            {
                "library": partners[pid]["code"],
                "library_name": partners[pid]["name"],
                "call_numbers": slot["call_numbers"],
                "items": slot["items"],
                "available": available,
                "requestable": requestable,
                "reason": reason,
                "services": services,
                # the day of the library's last import, whence the copies' statuses
                "as_of": known.as_of.isoformat() if known else None,
                "stale": bool(known and known.stale),
            }
        )
    holdings.sort(key=lambda h: (not h["requestable"], -h["available"], h["library"]))

    names, subjects = record_headings(live)
    member_rows = []
    for m in members if staff else live:
        row = {
            "id": m.id,
            "partner": partners.get(m.partner_id, {}).get("code"),
            "control_number": m.control_number,
            "ordinal": m.ordinal,
            "title": m.title,
            "author": m.author,
            "year": m.year,
            "isbn": list(m.isbns or []),
            "issn": list(m.issns or []),
        }
        if staff:
            row["match_evidence"] = m.match_evidence
            row["withdrawn"] = m.withdrawn_at is not None
        member_rows.append(row)
    editions, editions_total = other_editions(session, cluster_id, user, day, partners)
    return {
        **_description(cluster),
        "withdrawn": not live,
        "subjects": subjects,
        "names": names,
        "members": member_rows,
        "other_editions": editions,
        "other_editions_total": editions_total,
        "holdings": holdings,
        "requestable": (any(h["requestable"] for h in holdings) if signed_in else None),
    }


@dataclass(frozen=True)
class Freshness:
    """How fresh a library's copies' statuses are: the day (in the network's
    time zone) of its last import that changed the catalogue, or of the last
    statuses its system sent (``union_catalog.statuses``), whichever is
    later; stale when that is more than ``CATALOG_STALE_DAYS`` before the day
    asked about. The one rule the record page, the quality report and
    routing read."""

    as_of: date
    stale: bool


def freshness(session, day: date) -> dict[int, Freshness]:
    """Each library's Freshness on ``day``; a library with nothing recorded
    is left out (its statuses' age is not known)."""
    from .models import ImportRun, StatusUpdate

    latest: dict[int, date] = {}
    told = union_all(
        select(ImportRun.partner_id.label("pid"), ImportRun.finished_at.label("at")).where(ImportRun.status == "done"),
        select(StatusUpdate.partner_id, StatusUpdate.at),
    ).subquery()
    for pid, when in session.execute(select(told.c.pid, func.max(told.c.at)).group_by(told.c.pid)):
        as_of = clock.day_of(when) if when is not None else None
        if as_of is not None:
            latest[pid] = as_of
    stale_before = day - timedelta(days=int(setting("CATALOG_STALE_DAYS")))
    return {pid: Freshness(as_of, as_of < stale_before) for pid, as_of in latest.items()}


# How fresh a library's statuses are changes only with an import or an
# update of statuses, and counts in days. A page of search results asks it
# for every library holding a result (whether one whose copies are all on
# loan may be asked): the answer is kept a minute per process, so that pages
# do not pay a round trip for it.
FRESHNESS_KEPT_SECONDS = 60


def freshness_kept(session, day: date) -> dict[int, Freshness]:
    """``freshness``, as read at most once a minute per application."""
    from ill.kept import kept

    return kept("catalog_freshness", (day, int(setting("CATALOG_STALE_DAYS"))), FRESHNESS_KEPT_SECONDS,
                lambda: freshness(session, day))


def member_marc(session, record_ids: Iterable[int]) -> dict[int, dict]:
    """MARC-in-JSON of these source records (a union record's members), by id."""
    return {rid: bulk.json_value(marc) for rid, marc in bulk.select_among(
        session.connection(), "SELECT id, marc FROM source_records", "id", record_ids)}


def marc_lines(marc: dict | None, staff: bool = False) -> list[tuple[str, str, str]]:
    """A MARC-in-JSON record as (tag, indicators, content) lines for reading;
    items' barcodes for staff only, as on the rest of the page."""
    if not marc:
        return []
    lines = [("LDR", "", str(marc.get("leader", "")))]
    for entry in marc.get("fields", []):
        for tag, value in entry.items():
            if isinstance(value, dict):
                ind = f"{value.get('ind1', ' ')}{value.get('ind2', ' ')}".replace(" ", "_")
                hidden = "" if staff else BARCODE_SUBFIELDS.get(tag, "")
                content = " ".join(
                    f"${code} {v}" for sf in value.get("subfields", []) for code, v in sf.items()
                    if code not in hidden
                )
                lines.append((tag, ind, content))
            else:
                lines.append((tag, "", str(value)))
    return lines
