"""Tables of the union catalogue.

A partner's export becomes ``SourceRecord`` rows (one per MARC record, known
by partner and ``record_key``) with their ``Item`` rows; records of one edition
share a ``Cluster``, the union record that requests and links point at.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ill.accounts import utcnow
from ill.extensions import db

# The forms of a record that union_catalog.matching.describe tells apart, and
# their names for people (search facets, a lender's rules of what it lends).
FORMATS = {
    "book": _l("book"),
    "serial": _l("serial"),
    "thesis": _l("thesis"),
    "map": _l("map"),
    "score": _l("music score"),
    "visual": _l("visual material"),
    "audio": _l("sound recording"),
    "computer": _l("computer file"),
}


class ItemStatus:
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    NOT_FOR_LOAN = "not_for_loan"
    LOST = "lost"
    DAMAGED = "damaged"
    UNKNOWN = "unknown"
    ALL = (AVAILABLE, ON_LOAN, NOT_FOR_LOAN, LOST, DAMAGED, UNKNOWN)


class ImportRun(db.Model):
    """One import of one partner's export: its file, who, when, counts, problems."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    items_filename: Mapped[str | None] = mapped_column(String(255))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    items_stored_path: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed checked
    progress: Mapped[int] = mapped_column(Integer, default=0)  # records read so far
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    failure: Mapped[str | None] = mapped_column(Text)
    # host:pid of the process running it, to tell an interrupted run from a live one.
    worker: Mapped[str | None] = mapped_column(String(100))
    # A harvest over OAI-PMH rather than an uploaded file: {"url", "metadata_prefix", "set"}.
    harvest: Mapped[dict | None] = mapped_column(JSON)
    # May withdraw more of the partner's records than importer.withdrawal_limit allows.
    allow_withdrawals: Mapped[bool] = mapped_column(default=False)
    # Work out what the import would do and roll it back (status "checked").
    check_only: Mapped[bool] = mapped_column(default=False)

    partner = relationship("Partner")
    user = relationship("User")


class HarvestSource(db.Model):
    """Where a partner's catalogue can be harvested over OAI-PMH, instead of
    its sending exports, and how often (``union_catalog.harvest``)."""

    __tablename__ = "catalog_harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    metadata_prefix: Mapped[str] = mapped_column(String(100), default="marc21")
    set_spec: Mapped[str] = mapped_column(String(200), default="")
    # Days between harvests for `flask catalog harvest --due`; 0: only when asked.
    every_days: Mapped[int] = mapped_column(Integer, default=0)
    # Harvest only what changed since the last harvest (OAI-PMH ``from``),
    # with a full harvest every full_every_days days (``harvest.plan``).
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    full_every_days: Mapped[int] = mapped_column(Integer, default=30)
    # What the repository said of deleted records when last asked (Identify:
    # no, transient, persistent; "" before it was asked)
    deleted_record: Mapped[str] = mapped_column(String(20), default="")

    @property
    def keeps_deletions(self) -> bool:
        """Whether the repository said it keeps its deletions (persistent, or
        transient: for a while), which a harvest of its changes needs."""
        return self.deleted_record in ("persistent", "transient")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254), default="")

    partner = relationship("Partner")


class Cluster(db.Model):
    """A union record: one edition, as held across the network."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer)
    publisher: Mapped[str] = mapped_column(Text, default="")
    edition: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(3), default="")
    format: Mapped[str] = mapped_column(String(20), default="book")
    isbns: Mapped[list] = mapped_column(JSON, default=list)
    issns: Mapped[list] = mapped_column(JSON, default=list)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    volume: Mapped[str] = mapped_column(String(20), default="")
    # Set when this union record's members joined an older one: old links follow it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    members: Mapped[list[SourceRecord]] = relationship(back_populates="cluster")


class SourceRecord(db.Model):
    """One partner's MARC record, as last imported."""

    __tablename__ = "source_records"
    # (partner_id, record_key) also serves every lookup by partner alone; a
    # withdrawn record is found by where it was (its match evidence names
    # its union record, whose page still lists it for staff)
    __table_args__ = (
        UniqueConstraint("partner_id", "record_key"),
        Index("ix_source_records_withdrawn_evidence", "match_evidence",
              sqlite_where=text("withdrawn_at IS NOT NULL"),
              postgresql_where=text("withdrawn_at IS NOT NULL")),
        # a harvested record by its identifier in the repository, for the
        # deletions an incremental harvest lists (file imports leave it empty)
        Index("ix_source_records_harvest_identifier", "partner_id", "harvest_identifier",
              sqlite_where=text("harvest_identifier IS NOT NULL"),
              postgresql_where=text("harvest_identifier IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    # The 001 where there is one; else a key derived from the record's content.
    record_key: Mapped[str] = mapped_column(String(100))
    control_number: Mapped[str | None] = mapped_column(String(100))
    ordinal: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    marc: Mapped[dict] = mapped_column(JSON)  # MARC-in-JSON, UTF-8
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer)
    isbns: Mapped[list] = mapped_column(JSON, default=list)
    issns: Mapped[list] = mapped_column(JSON, default=list)
    # What union_catalog.matching.describe() says of the record: the facts
    # clustering and search work from, so the MARC is parsed once per import.
    match_data: Mapped[dict] = mapped_column(JSON, default=dict)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    match_evidence: Mapped[str | None] = mapped_column(Text)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    # The record's identifier in the OAI-PMH repository it was harvested from.
    harvest_identifier: Mapped[str | None] = mapped_column(String(500))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    partner = relationship("Partner")
    cluster: Mapped[Cluster | None] = relationship(back_populates="members")
    items: Mapped[list[Item]] = relationship(back_populates="record", cascade="all, delete-orphan")


class Item(db.Model):
    """One copy (or, for a serial, one holding with its coverage). Its library
    is its record's (``record.partner_id``): kept once, so the two can never
    disagree, and an import writes no second key to check per copy."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"),
                                                  index=True)
    barcode: Mapped[str | None] = mapped_column(String(100))
    call_number: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.UNKNOWN)
    note: Mapped[str] = mapped_column(Text, default="")
    coverage: Mapped[str] = mapped_column(Text, default="")  # 866 for serials
    source: Mapped[str] = mapped_column(String(10), default="")  # 952 852 949 csv none

    record: Mapped[SourceRecord] = relationship(back_populates="items")


# Derived tables: match_keys, catalog_search_docs, catalog_search_holdings,
# catalog_search_headings and
# the full-text table (union_catalog.search_schema) are worked out from the
# records and union records, written only by clustering and the search index,
# and rebuilt from them by `catalog recluster` and `catalog reindex`. They
# carry no foreign keys: on PostgreSQL each would fire a trigger for every row
# an import writes (4.5 s of a 60,000-record import), and the rows they
# point to are never deleted (a record is withdrawn, a union record keeps its
# row when emptied or merged). Their upkeep is tested instead
# (tests/union_catalog/test_derived_tables.py).


class MatchKey(db.Model):
    """One blocking key of one record (union_catalog.matching.block_keys, as a
    64-bit hash): re-importing a partner finds its records' candidates here
    without reading anyone else's records. Derived (see above)."""

    __tablename__ = "match_keys"

    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_record_id: Mapped[int] = mapped_column(primary_key=True, index=True)


class ClusterDecision(db.Model):
    """A coordinator's word on two records: kept "together" or "apart".

    Records are named by partner code and record key, not by row id, so the
    decision outlives any re-import; the later decision on a pair replaces
    the earlier one."""

    __tablename__ = "cluster_decisions"
    __table_args__ = (
        UniqueConstraint("a_partner", "a_key", "b_partner", "b_key"),
        Index("ix_cluster_decisions_b", "b_partner", "b_key"),
    )

    TOGETHER = "together"
    APART = "apart"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    a_partner: Mapped[str] = mapped_column(String(20))
    a_key: Mapped[str] = mapped_column(String(100))
    b_partner: Mapped[str] = mapped_column(String(20))
    b_key: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User")


HOLDERS_TYPE = JSON().with_variant(ARRAY(Integer), "postgresql")


FILING_TEXT = Text().with_variant(Text(collation="C"), "postgresql")


class SearchDoc(db.Model):
    """What search filters, facets and ranks a union record by, kept current by
    ``union_catalog.search.reindex_clusters`` (the words themselves live in the
    engine's full-text table, see ``union_catalog.search_schema``). Derived
    (see above)."""

    __tablename__ = "catalog_search_docs"

    cluster_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Folded and padded with spaces (' tafsir al misbah '), for exact and
    # whole-word title matches that rank above keyword hits.
    title_norm: Mapped[str] = mapped_column(Text, default=" ")
    title_key: Mapped[str] = mapped_column(Text, default=" ")  # the title proper, before ' : '
    # The folded title without its non-filing characters ('quran dan
    # tafsirnya' for 'al-Qurʼan dan tafsirnya'): what a sort by title orders
    # by (searchtext.sort_title).
    # Compared byte by byte on either database ("C" on PostgreSQL, whatever
    # the database's own collation): a space files before any letter, word by
    # word as catalogues file ("ilmu zakat" before "ilmuwan"), where a
    # language's collation may skip spaces and file letter by letter.
    title_sort: Mapped[str] = mapped_column(FILING_TEXT, default="", server_default="")
    # ... and the main entry's name, folded, by which a sort by author orders
    # (searchtext.sort_author).
    author_sort: Mapped[str] = mapped_column(FILING_TEXT, default="", server_default="")
    # The work it is an edition (or volume) of, as its records say
    # (matching.work_key: title proper and first author), "" when they name
    # none: the record page lists the union records that share it as other
    # editions.
    work_key: Mapped[str] = mapped_column(Text, default="", server_default="", index=True)
    identifiers: Mapped[str] = mapped_column(Text, default=" ")  # ' 978... 01261045 '
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    language: Mapped[str] = mapped_column(String(3), default="", index=True)
    format: Mapped[str] = mapped_column(String(20), default="", index=True)
    libraries: Mapped[int] = mapped_column(Integer, default=0)  # partners holding it
    # ... of which with a copy on the shelf
    libraries_available: Mapped[int] = mapped_column(Integer, default=0)
    # A digest of the words in the full-text table, so that a reindex writes
    # them only when they change (a new library's copy often leaves them as they were);
    # NULL: not known, written at the next reindex.
    words_digest: Mapped[int | None] = mapped_column(BigInteger)
    # The holding libraries' ids, ascending: on PostgreSQL an integer array,
    # which the library facet and filter read beside the hit (unnest, &&)
    # instead of looking the holdings up hit by hit; a JSON list on SQLite,
    # where that lookup is as cheap (kept alike, read by neither search).
    holders: Mapped[list[int] | None] = mapped_column(HOLDERS_TYPE)
    # ... and of its headings to browse (union_catalog.headings.digest); NULL: not known
    headings_digest: Mapped[int | None] = mapped_column(BigInteger)


class SearchHolding(db.Model):
    """One partner holding one union record, for the library filter and facet.
    Derived (see above)."""

    __tablename__ = "catalog_search_holdings"

    cluster_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    partner_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    available: Mapped[int] = mapped_column(Integer, default=0)
    # The statuses its copies have, each once, sorted and space-separated
    # ('available on_loan'): what decides whether it may be asked for a loan
    # or a copy, so that a page of results is judged without reading items.
    statuses: Mapped[str] = mapped_column(String(64), default="", server_default="")


class SearchHeading(db.Model):
    """A union record filed under one author or subject heading, for browsing
    (``union_catalog.headings``). Derived (see above)."""

    __tablename__ = "catalog_search_headings"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # author, subject
    # where the heading files (headings.filing), compared byte by byte as the sorts are
    filing: Mapped[str] = mapped_column(FILING_TEXT, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, index=True)
    heading: Mapped[str] = mapped_column(Text, default="")  # as this union record's records give it


class SearchAlert(db.Model):
    """A signed-in user's search that the daily tick runs again, telling them
    of the union records new since it last looked (``union_catalog.alerts``)."""

    __tablename__ = "catalog_search_alerts"
    __table_args__ = (UniqueConstraint("user_id", "query_string"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the search's query string, in one order, without page, order or page size
    query_string: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(300), default="")
    # the newest union record (ids only grow) it has told of, or that
    # existed when it was made: only what comes after is news
    seen_up_to: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_told_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    told: Mapped[int] = mapped_column(Integer, default=0)  # union records told of in all

    user = relationship("User")


class RecordProblem(db.Model):
    """What a reader or librarian says is wrong with a union record, for the
    network's coordinators to put right and answer
    (``union_catalog.record_problems``)."""

    __tablename__ = "catalog_record_problems"
    __table_args__ = (Index("ix_catalog_record_problems_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    # for "same edition": the other union record it is said to be
    other_cluster_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User", foreign_keys=[user_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    cluster = relationship("Cluster")


class StatusUpdate(db.Model):
    """A library's system telling the copies' statuses that changed since its
    export (``union_catalog.statuses``): the record of each, for its history
    and for how fresh a library's statuses are."""

    __tablename__ = "catalog_status_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read: Mapped[int] = mapped_column(Integer, default=0)  # statuses sent
    changed: Mapped[int] = mapped_column(Integer, default=0)  # copies whose status changed
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)  # lines not applied (barcode unknown...)

    partner = relationship("Partner")
    user = relationship("User")
