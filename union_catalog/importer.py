"""Importing one partner's export: its records and holdings replace the
previous ones as one unit, in the caller's transaction (the service never
commits). Unchanged records are left as they are; records missing from the
new export are withdrawn; every defective record is reported by its ordinal.

Memory stays flat as files grow: records stream from the reader and are
written in batches; what is kept across the whole file is one small entry
per record (its key and id), for duplicates, withdrawals and SLiMS items.
"""
from __future__ import annotations

import gc
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from agreements.models import Partner

from . import bulk, clustering, holdings, marc, reading, search
from .errors import CatalogError
from .models import ImportRun, Item, SourceRecord

log = logging.getLogger(__name__)

WITHDRAW_CHUNK = 1000  # records withdrawn per statement
SHOWN_ORDINALS = 10  # records named when a SLiMS item's title fits several
SHOWN_DUPLICATES = 100  # barcodes on several items named in the report (all are counted)
SHOWN_WITHDRAWALS = 100  # records withdrawn (or that would be) named in the report

ProgressFn = Callable[[int, int, int], None]  # records read, bytes read, bytes in all


@dataclass
class _State:
    partner: Partner
    setting: str
    run: ImportRun | None
    now: object
    first: bool = False  # the partner has no records yet
    allow_withdrawals: bool = False  # more than withdrawal_limit() may be withdrawn
    # an incremental harvest's changes: records missing from it are not
    # withdrawn, those it lists as deleted are (their identifiers), and so
    # are those a record it sends under another key replaces (``resent``)
    incremental: bool = False
    deleted: set[str] = field(default_factory=set)
    resent: set[str] = field(default_factory=set)
    live_before: int = 0  # the partner's live records before this import
    read: int = 0
    imported: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    items: int = 0
    problems: list[dict] = field(default_factory=list)
    encodings: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    seen_ids: set[int] = field(default_factory=set)
    items_changed_ids: set[int] = field(default_factory=set)
    without_marc_items: set[int] = field(default_factory=set)
    titles: dict[str, list[tuple[int, int]]] | None = None  # title key -> [(id, ordinal)]
    # what re-clustering said, summed over the batches, and the union
    # records it touched (for the report and the index's upkeep after the commit)
    clustering: dict = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)
    withdrawn_shown: list[dict] = field(default_factory=list)  # the first of those withdrawn


def import_export(session, partner: Partner, path: str, *, items_path: str | None = None,
                  run: ImportRun | None = None, filename: str | None = None,
                  progress: ProgressFn | None = None, in_process: bool | None = None,
                  allow_withdrawals: bool = False, incremental: bool = False) -> dict:
    """Import the export at `path` (and a SLiMS item CSV) for `partner`;
    returns the report. incremental: the file is an incremental harvest's
    (``harvest.harvest`` with ``since``), only what changed: nothing is
    withdrawn for being missing from it, only what it lists as deleted.
    Withdrawing more of the partner's records than
    ``withdrawal_limit`` allows raises CatalogError (409) unless
    allow_withdrawals. Raises CatalogError when the file is unusable, in
    which case the caller rolls back and nothing has changed. Once it has
    committed, the caller calls ``search.upkeep_after_commit(session,
    report["clusters"]["touched"])`` (as ``jobs.execute`` does). in_process:
    read the file in this process (True), in a second one (False), or by its
    size (None; see reading.PROCESS_AT)."""
    # An import makes millions of short-lived objects, nearly all freed by
    # their reference counts; the cycle collector walking them every 700
    # allocations, and the whole heap on its full passes, cost a quarter of
    # the import's time. So the heap from before is set aside (gc.freeze),
    # automatic collection pauses, and each batch ends with a collection of
    # the young generations (_collect_young), which frees any cycle made in
    # it: memory stays flat. Both are restored afterwards.
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        return _import_export(session, partner, path, items_path=items_path, run=run,
                              filename=filename, progress=progress, in_process=in_process,
                              allow_withdrawals=allow_withdrawals, incremental=incremental)
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()


def _collect_young() -> None:
    gc.collect(1)


def _import_export(session, partner: Partner, path: str, *, items_path: str | None,
                   run: ImportRun | None, filename: str | None,
                   progress: ProgressFn | None, in_process: bool | None,
                   allow_withdrawals: bool = False, incremental: bool = False) -> dict:
    started = time.perf_counter()
    # One import per partner at a time: the second waits here (PostgreSQL);
    # SQLite has a single writer anyway.
    session.execute(select(Partner.id).where(Partner.id == partner.id).with_for_update())
    setting = partner.holdings_tag if partner.holdings_tag in holdings.SETTINGS else "auto"
    from ill.accounts import utcnow

    st = _State(partner=partner, setting=setting, run=run, now=utcnow(),
                allow_withdrawals=allow_withdrawals, incremental=incremental)
    if items_path:
        st.titles = {}
    total = os.path.getsize(path)
    complete = True
    fmt = ""
    known = reading.KnownDigests(session.execute(select(
        SourceRecord.record_key, SourceRecord.content_hash).where(
        SourceRecord.partner_id == partner.id, SourceRecord.withdrawn_at.is_(None))))
    # one digest per live record: its key is unique to the partner and the
    # importer gives every record a content hash
    st.live_before = len(known)
    # a partner's first import has no record of its own to look up, withdrawn or not
    st.first = session.scalar(select(SourceRecord.id).where(
        SourceRecord.partner_id == partner.id).limit(1)) is None
    for event in reading.read_batches(path, setting, titles=st.titles is not None, known=known,
                                      in_process=in_process):
        if event[0] == "format":
            fmt = event[1]
        elif event[0] == "batch":
            _, batch, done = event
            usable = []
            for p in batch:
                if p.deleted:  # a harvest's deletion marker, not a record
                    st.deleted.add(p.deleted)
                    continue
                st.read += 1
                _note(st, p)
                if p.usable:
                    usable.append(p)
            _flush(session, st, usable)
            _collect_young()
            if progress:
                progress(st.read, done, total)
        elif event[0] == "tail":
            complete = False
            st.problems.append({"ordinal": event[1] + 1, "control_number": "", "severity": "error",
                                "defect": event[2]})
    if st.imported == 0 and not (st.incremental and complete):  # nothing changed is news too
        if not complete and st.read == 0:  # broken before its first record
            raise CatalogError(f"Nothing in this file could be read: {st.problems[-1]['defect']}. "
                               "Nothing was changed.", details={"problems": st.problems[:50]})
        if fmt == "marcxml" and st.read == 0:
            raise CatalogError("No MARC record found in this XML file: it is well-formed but holds "
                               "no MARC21 (MARCXML) records.")
        raise CatalogError(
            f"No readable record in {filename or os.path.basename(path)}: {st.read} record(s) "
            "read, all defective. Nothing was changed.",
            details={"problems": st.problems[:50]})

    item_problems: list[dict] = []
    if items_path:
        item_problems = _attach_csv_items(session, st, items_path)

    withdrawn_ids: set[int] = set()
    if complete:
        withdrawn_ids = _withdraw_named(session, st) if st.incremental else _withdraw_missing(session, st)
    else:
        log.warning("import of %s not read to its end: nothing withdrawn", path)

    if withdrawn_ids or st.items_changed_ids:
        _index(session, st, _cluster(session, st, set(), withdrawn_ids), st.items_changed_ids)
    cluster_info = {**st.clustering, "touched": len(st.touched)}
    duplicates, duplicates_total = _duplicate_barcodes(session, partner.id)

    errors = sum(1 for p in st.problems if p["severity"] == "error")
    report = {
        "partner": partner.code,
        "file": filename or os.path.basename(path),
        "format": fmt,
        "read": st.read,
        "imported": st.imported,
        "inserted": st.inserted,
        "updated": st.updated,
        "unchanged": st.unchanged,
        "withdrawn": len(withdrawn_ids),
        "withdrawn_records": st.withdrawn_shown,
        "incremental": st.incremental,
        **({"listed_deleted": len(st.deleted)} if st.incremental else {}),
        "items": st.items,
        "errors": errors,
        "warnings": len(st.problems) - errors,
        "complete": complete,
        "encodings": st.encodings,
        "holdings_tags": st.tags,
        "holdings_setting": setting,
        "problems": st.problems,
        "item_problems": item_problems,
        "duplicate_barcodes": duplicates,
        "duplicate_barcodes_total": duplicates_total,
        "clusters": cluster_info,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if items_path:
        report["items_file"] = os.path.basename(items_path)
    if run is not None:
        record_on_run(run, report)
    return report


def record_on_run(run: ImportRun, report: dict) -> None:
    """The report's counts on its run, for the history's columns."""
    run.format = report["format"]
    run.read, run.imported, run.unchanged = report["read"], report["imported"], report["unchanged"]
    run.withdrawn, run.items = report["withdrawn"], report["items"]
    run.errors, run.warnings = report["errors"], report["warnings"]
    run.progress = report["read"]
    run.report = report


def defect_text(problem: dict) -> str:
    """A defective record's defects, or why an item was not attached, in the
    reader's language (the report keeps English for scripts; reports from
    before "details" existed show that)."""
    from flask_babel import gettext

    details = problem.get("details")
    if not details:
        return problem.get("defect", "")
    parts = []
    for detail in details:
        template, args = detail.get("template", ""), detail.get("args") or {}
        parts.append(gettext(template) % args if args else gettext(template))
    text = "; ".join(parts)
    if problem.get("severity") == "error":
        text += " " + gettext("(record skipped)")
    return text


def outcome_text(problem: dict) -> str:
    """What became of a defective record, in the reader's language."""
    from flask_babel import gettext

    return gettext("skipped") if problem.get("severity") == "error" else gettext("imported, repaired")


def problem_rows(report: dict) -> list[list]:
    """Every problem of an import's report as rows of a worklist, in the
    reader's language, for the library to mend them in its own system: what
    (a record, an item of the item file, a barcode), where (the record's
    position in the file and its 001, or the item file's line), the barcode
    and title where known, what became of it, and what is wrong. The first
    row names the columns."""
    from flask_babel import gettext

    rows: list[list] = [[gettext("Problem with"), gettext("Record"), gettext("Line of the item file"),
                         gettext("001"), gettext("Barcode"), gettext("Title"), gettext("Outcome"),
                         gettext("What is wrong")]]
    for p in report.get("problems") or []:
        rows.append([gettext("record"), p.get("ordinal"), "", p.get("control_number") or "", "", "",
                     outcome_text(p), defect_text(p)])
    for p in report.get("item_problems") or []:
        rows.append([gettext("item"), "", p.get("line"), "", p.get("barcode") or "", p.get("title") or "",
                     gettext("not attached"), defect_text(p)])
    for d in report.get("duplicate_barcodes") or []:
        for r in d.get("records") or []:
            rows.append([gettext("barcode"), r.get("ordinal"), "", r.get("control_number") or "",
                         d.get("barcode"), "", gettext("imported as it is"),
                         gettext("the same barcode is on more than one item")])
    return rows


def _note(st: _State, p: reading.Prepared) -> None:
    if p.encoding:
        st.encodings[p.encoding] = st.encodings.get(p.encoding, 0) + 1
    if p.tag:
        st.tags[p.tag] = st.tags.get(p.tag, 0) + 1
    if p.problem is not None:
        st.problems.append(p.problem)


def _flush(session, st: _State, batch: list[reading.Prepared]) -> None:
    if not batch:
        return
    pid = st.partner.id
    conn = session.connection()
    existing = {} if st.first else {r.record_key: r for r in bulk.select_among(
        conn, "SELECT id, record_key, content_hash, withdrawn_at, ordinal FROM source_records",
        "record_key", [row.key for row in batch], pg_type="varchar", tail=f" AND partner_id = {int(pid)}")}
    new_rows, changed, reordered = [], [], []
    for row in batch:
        old = existing.get(row.key)
        if old is None:
            new_rows.append(row)
        elif old.content_hash != row.values["content_hash"] or old.withdrawn_at is not None:
            changed.append((old.id, row))
        elif old.ordinal != row.ordinal:
            reordered.append((row.ordinal, old.id))  # moved in the file, not changed
        if old is not None:
            row.values["id"] = old.id
    run_id = st.run.id if st.run is not None else None
    now = bulk.timestamp(conn, st.now)
    for row in [*new_rows, *(row for _rid, row in changed)]:
        if row.unchanged:  # the reader's digests and the database disagree: never quietly
            raise RuntimeError(f"record {row.ordinal} ({row.key!r}) was read as unchanged but is "
                               "new or changed; nothing was imported")
    if new_rows:  # their ids now; the rows once clustering has placed them
        for row, rid in zip(new_rows, bulk.new_ids(conn, "source_records", len(new_rows)),
                            strict=True):
            row.values["id"] = rid
        st.inserted += len(new_rows)
    if changed:
        bulk.update_rows(conn, "source_records", [*_RECORD_COLUMNS, ("withdrawn_at", "timestamptz")],
                         [(*_record_values(row.values, run_id, now), None, rid) for rid, row in changed])
        bulk.delete_among(conn, "items", "source_record_id", [rid for rid, _ in changed])
        st.updated += len(changed)
    bulk.update_rows(conn, "source_records", [("ordinal", "integer")], reordered)
    st.unchanged += len(batch) - len(new_rows) - len(changed)
    st.imported += len(batch)
    fresh = new_rows + [row for _rid, row in changed]
    info = None
    if fresh:
        # clustered before the new records are written, so that each goes in
        # once, with its union record, rather than written and then updated
        info = _cluster(session, st, {row.values["id"] for row in fresh}, set(),
                        facts={row.values["id"]: bulk.loads(row.values["match_data"]) for row in fresh},
                        pending={row.values["id"]: (pid, row.key, row.values["control_number"], row.ordinal)
                                 for row in new_rows})
    inserts = []
    if new_rows:
        placed = info["placed"]
        inserts.append(("source_records", [("id", "integer"), *_INSERT_COLUMNS],
                        [(row.values["id"], *_record_values(row.values, run_id, now), pid, now,
                          *placed[row.values["id"]]) for row in new_rows]))
        inserts.append(("match_keys", clustering.MATCH_KEY_COLUMNS, info["pending_keys"]))
    item_rows, stock = [], {}
    for row in fresh:
        items = row.items or [_PLACEHOLDER]
        item_rows.extend((row.values["id"], *it) for it in items)
        stock[row.values["id"]] = Counter(it[_STATUS] for it in items)
    inserts.append(("items", _ITEM_COLUMNS, item_rows))
    reindex = None
    if info is not None:
        # the index reads what it needs before the batch's records and items
        # are written, and is told what it cannot read of them: nothing just
        # written is read back
        reindex = search.Reindex(session, info["clusters"], info["facts"], new=info["created"],
                                 unwritten=search.Unwritten(
                                     homes={rid: (cid, pid) for rid, (cid, _e) in info["placed"].items()},
                                     stock=stock))
    for table, columns, rows in inserts:
        bulk.insert_rows(conn, table, columns, rows)
    for row in batch:
        rid = row.values["id"]
        st.seen_ids.add(rid)
        if st.incremental and row.values["harvest_identifier"]:
            st.resent.add(row.values["harvest_identifier"])
        st.items += len(row.items)
        if st.titles is not None:
            if not row.items:
                st.without_marc_items.add(rid)
            if row.title_key:
                st.titles.setdefault(row.title_key, []).append((rid, row.ordinal))
    if reindex is not None:
        reindex.write()
        st.touched |= set(reindex.ids)


_PLACEHOLDER = holdings.placeholder().as_tuple()
_STATUS = holdings.ItemData.COLUMNS.index("status")


# source_records as the importer writes them: these columns, then (insert)
# partner_id, created_at and where clustering placed it, or (update)
# withdrawn_at and the id
_RECORD_COLUMNS = [
    ("record_key", "varchar"), ("control_number", "varchar"), ("ordinal", "integer"),
    ("content_hash", "varchar"), ("marc", "json"), ("title", "text"), ("author", "text"),
    ("year", "integer"), ("isbns", "json"), ("issns", "json"), ("match_data", "json"),
    ("import_run_id", "integer"), ("updated_at", "timestamptz"), ("harvest_identifier", "varchar")]
_INSERT_COLUMNS = [*_RECORD_COLUMNS, ("partner_id", "integer"), ("created_at", "timestamptz"),
                   ("cluster_id", "integer"), ("match_evidence", "text")]
_ITEM_COLUMNS = [("source_record_id", "integer"),
                 *((name, "varchar" if name in ("barcode", "call_number", "location", "status", "source")
                    else "text") for name in holdings.ItemData.COLUMNS)]


def _record_values(v: dict, run_id: int | None, now) -> tuple:
    return (v["record_key"], v["control_number"], v["ordinal"], v["content_hash"], v["marc"],
            v["title"], v["author"], v["year"], v["isbns"], v["issns"], v["match_data"], run_id, now,
            v["harvest_identifier"])


def _attach_csv_items(session, st: _State, items_path: str) -> list[dict]:
    """SLiMS items name their record by title alone: attach each to the one
    record with that (normalised) title; report, never guess, the others."""
    problems: list[dict] = []
    desired: dict[int, list[holdings.ItemData]] = {}
    with open(items_path, "rb") as fh:
        for row in holdings.read_item_csv(fh, notes=problems):
            key = marc.normalise_title(row.title)
            found = st.titles.get(key, []) if key else []
            if len(found) == 1:
                desired.setdefault(found[0][0], []).append(row.item)
                continue
            where = {"line": row.line, "barcode": row.item.barcode or "", "title": row.title}
            if not key:
                problems.append({**where, **marc.wording(marc.N_("the row names no title"))})
            elif not found:
                problems.append({**where, **marc.wording(marc.N_("no record in the export has this title"))})
            else:
                ordinals = ", ".join(str(o) for _rid, o in found[:SHOWN_ORDINALS])
                more = len(found) - SHOWN_ORDINALS
                if more > 0:
                    said = marc.wording(marc.N_("%(count)d records have this title (records %(ordinals)s "
                                                "and %(more)d more); not attached to any"),
                                        count=len(found), ordinals=ordinals, more=more)
                else:
                    said = marc.wording(marc.N_("%(count)d records have this title (records %(ordinals)s); "
                                                "not attached to any"), count=len(found), ordinals=ordinals)
                problems.append({**where, **said})
    have: dict[int, list[tuple]] = {}
    for it in session.execute(select(Item.source_record_id, Item.barcode, Item.call_number,
                                     Item.location, Item.status, Item.note, Item.coverage,
                                     Item.source)
                              .join(SourceRecord, SourceRecord.id == Item.source_record_id)
                              .where(SourceRecord.partner_id == st.partner.id,
                                     Item.source.in_(("csv", "none")))):
        have.setdefault(it.source_record_id, []).append(
            holdings.ItemData(barcode=it.barcode, call_number=it.call_number, location=it.location,
                              status=it.status, note=it.note, coverage=it.coverage,
                              source=it.source).key())
    replaced, item_rows = [], []
    for rid in set(desired) | set(have):
        if rid not in st.seen_ids:
            continue
        want = desired.get(rid) or ([holdings.placeholder()] if rid in st.without_marc_items else [])
        if sorted(w.key() for w in want) == sorted(have.get(rid, [])):
            continue
        replaced.append(rid)
        item_rows.extend((rid, *w.as_tuple()) for w in want)
    conn = session.connection()
    for chunk in bulk.chunks(replaced, bulk.SQLITE_IDS):
        session.execute(delete(Item).where(Item.source_record_id.in_(chunk),
                                           Item.source.in_(("csv", "none"))))
    bulk.insert_rows(conn, "items", _ITEM_COLUMNS, item_rows)
    st.items_changed_ids.update(replaced)
    st.items += sum(len(v) for v in desired.values())
    return problems


def _duplicate_barcodes(session, partner_id: int) -> tuple[list[dict], int]:
    """Barcodes on more than one of the library's items after this import
    (a barcode names one copy: two items with one barcode are a cataloguing
    slip, or two copies a circulation desk cannot tell apart), the first
    SHOWN_DUPLICATES of them with the records that carry them, and how many
    there are. Imported as they are; said, so that the library mends them.
    Asked of the database once the import is written: the importer keeps
    nothing per item across batches."""
    live = (SourceRecord.partner_id == partner_id, SourceRecord.withdrawn_at.is_(None),
            Item.barcode.is_not(None), Item.barcode != "")
    barcodes = session.scalars(
        select(Item.barcode).join(SourceRecord, SourceRecord.id == Item.source_record_id)
        .where(*live).group_by(Item.barcode).having(func.count() > 1).order_by(Item.barcode)).all()
    shown = barcodes[:SHOWN_DUPLICATES]
    carriers: dict[str, list[dict]] = {b: [] for b in shown}
    for chunk in bulk.chunks(shown, bulk.SQLITE_IDS):
        for barcode, ordinal, control in session.execute(
                select(Item.barcode, SourceRecord.ordinal, SourceRecord.control_number)
                .join(SourceRecord, SourceRecord.id == Item.source_record_id)
                .where(*live, Item.barcode.in_(chunk))
                .order_by(Item.barcode, SourceRecord.ordinal, Item.id)):
            carriers[barcode].append({"ordinal": ordinal, "control_number": control or ""})
    return [{"barcode": b, "records": carriers[b]} for b in shown], len(barcodes)


def withdrawn_rows(session, run: ImportRun) -> list[list]:
    """The records an import withdrew, as a spreadsheet's rows (a header row
    first, in the reader's language): all of them for an import that was
    done; for one that stopped at its withdrawals, or was only checked, the
    first it named (nothing was withdrawn)."""
    from flask_babel import gettext as _

    rows = [[_("001"), _("Key"), _("Title"), _("Author"), _("Year"), _("ISBN")]]
    if run.status == "done":
        for control, key, title, author, year, isbns in session.execute(
                select(SourceRecord.control_number, SourceRecord.record_key, SourceRecord.title,
                       SourceRecord.author, SourceRecord.year, SourceRecord.isbns)
                .where(SourceRecord.import_run_id == run.id, SourceRecord.withdrawn_at.is_not(None))
                .order_by(SourceRecord.ordinal)):
            rows.append([control or "", key, title, author, year or "", " ".join(bulk.json_value(isbns) or [])])
        return rows
    for r in (run.report or {}).get("withdrawn_records", []):
        rows.append([r["control_number"], r["key"], r["title"], "", "", ""])
    return rows


def withdrawal_limit(live: int) -> int:
    """How many of a partner's `live` records one import may withdraw
    unless told it may withdraw more: CATALOG_WITHDRAW_PERCENT of them (20),
    and never fewer than CATALOG_WITHDRAW_MIN (50). An export of part of a
    catalogue (one branch, one year, a harvest of the wrong set) would
    otherwise withdraw the rest without a word."""
    from ill.config import setting

    percent = float(setting("CATALOG_WITHDRAW_PERCENT"))
    return max(int(setting("CATALOG_WITHDRAW_MIN")), int(live * percent / 100))


def _withdraw_missing(session, st: _State) -> set[int]:
    """A whole export's withdrawals: the partner's live records it did not hold."""
    current = session.scalars(select(SourceRecord.id).where(
        SourceRecord.partner_id == st.partner.id, SourceRecord.withdrawn_at.is_(None))).all()
    return _withdraw(session, st, [rid for rid in current if rid not in st.seen_ids])


def _withdraw_named(session, st: _State) -> set[int]:
    """An incremental harvest's withdrawals: the live records with an
    identifier it lists as deleted, or one it sent a record of that this
    import did not write to them (sent again under another 001: replaced)."""
    named = st.deleted | st.resent
    if not named:
        return set()
    rows = bulk.select_among(session.connection(), "SELECT id FROM source_records", "harvest_identifier",
                             named, pg_type="varchar",
                             tail=f" AND partner_id = {int(st.partner.id)} AND harvest_identifier IS NOT NULL"
                                  " AND withdrawn_at IS NULL")
    return _withdraw(session, st, [rid for (rid,) in rows if rid not in st.seen_ids])


def _withdraw(session, st: _State, gone: list[int]) -> set[int]:
    """Withdraw the records of ``gone``, naming the first of them in the
    report; or, where they are more than ``withdrawal_limit`` and not
    allowed, none, and say so naming the first of them (in the error's
    details: someone looks at those before allowing it)."""
    live = st.live_before
    st.withdrawn_shown = _shown(session, gone)
    if not st.allow_withdrawals and len(gone) > withdrawal_limit(live):
        exc = CatalogError.said(
            marc.N_("This export would withdraw %(gone)s of the %(live)s records %(library)s has in the "
                    "union catalogue (%(percent)s%%), more than an import withdraws unasked, so "
                    "nothing was changed. An export of part of a catalogue (one branch, one year, "
                    "the wrong set) does this. If the library really no longer holds them, import "
                    "it again allowing the withdrawals."),
            as_kind="too_many_withdrawals", as_code="too_many_withdrawals", as_status=409,
            gone=len(gone), live=live, library=st.partner.code,
            percent=round(100 * len(gone) / max(live, 1)))
        exc.details["withdrawn_records"] = st.withdrawn_shown
        raise exc
    for i in range(0, len(gone), WITHDRAW_CHUNK):
        chunk = gone[i:i + WITHDRAW_CHUNK]
        # the run that withdrew a record is the last one to have changed it
        session.execute(update(SourceRecord).where(SourceRecord.id.in_(chunk))
                        .values(withdrawn_at=st.now, **({"import_run_id": st.run.id} if st.run else {}))
                        .execution_options(synchronize_session=False))
        session.execute(delete(Item).where(Item.source_record_id.in_(chunk)))
    return set(gone)


def _shown(session, ids: list[int]) -> list[dict]:
    """The first SHOWN_WITHDRAWALS of these records, by their place in the
    file they came in: their key, 001, title and union record."""
    first = sorted(ids)[:SHOWN_WITHDRAWALS]
    if not first:
        return []
    rows = session.execute(select(SourceRecord.record_key, SourceRecord.control_number, SourceRecord.title,
                                  SourceRecord.cluster_id, SourceRecord.ordinal)
                           .where(SourceRecord.id.in_(first)).order_by(SourceRecord.ordinal))
    return [{"key": key, "control_number": control or "", "title": title, "union_record": cid}
            for key, control, title, cid, _ordinal in rows]


def _cluster(session, st: _State, changed_ids: set[int], withdrawn_ids: set[int],
             facts: dict[int, dict] | None = None, pending: dict[int, tuple] | None = None) -> dict:
    """Re-cluster what this batch changed (handing clustering the facts just
    described, and the new records not written yet), in this transaction.
    Each batch is settled as it lands, while the reader reads the next; the
    records withdrawn and the SLiMS items come last."""
    info = clustering.recluster(session, st.partner.id, changed_ids, withdrawn_ids, facts=facts,
                                pending=pending)
    for k, v in info.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            st.clustering[k] = round(st.clustering.get(k, 0) + v, 3)
    return info


def _index(session, st: _State, info: dict, items_changed_ids: set[int] = frozenset()) -> None:
    """Bring the search index up to date for the union records clustering
    touched (and those whose records' items changed)."""
    cluster_ids: set[int] = set(info["clusters"])
    if items_changed_ids:
        cluster_ids.update(cid for cid in session.scalars(
            select(SourceRecord.cluster_id).where(SourceRecord.id.in_(items_changed_ids)))
            if cid is not None)
    search.reindex_clusters(session, cluster_ids, known=info["facts"], upkeep=False,
                            new=info["created"])
    st.touched |= cluster_ids
