"""Copies' statuses between exports.

An export says where each copy stood on the day it was made; a week later
half the "available" copies may be on loan, and requests go to shelves that
are empty. A library's system may instead send, as often as it likes, the
statuses of the copies that changed: by barcode, as CSV (a Koha report, a
SLiMS item export) or JSON. Each is applied to that library's live copies
with that barcode, the search index follows, and the library's statuses are
then as fresh as the update (the record page's "copies as of").

A status is one of ``ItemStatus.ALL`` or a phrase a catalogue writes
("Dipinjam", "On loan", "Tersedia", "Missing": ``holdings.status_from_text``).
A line whose barcode the library's copies do not have, or whose status says
nothing known, is reported by its line and changes nothing; the others are
applied. Nothing is applied when the file cannot be read at all.
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from . import bulk, search
from .errors import CatalogError
from .holdings import status_from_text
from .models import Item, ItemStatus, SourceRecord, StatusUpdate

MAX_LINES = 100_000  # statuses in one update
REPORTED = 100  # problems named in a report; the rest are counted
BARCODE_COLUMNS = ("barcode", "item_code", "itemcode", "item barcode", "kode eksemplar")
STATUS_COLUMNS = ("status", "item_status", "item_status_name", "availability", "status eksemplar")


@dataclass(frozen=True)
class Line:
    line: int  # in the file (CSV, after its header) or the list (JSON), from 1
    barcode: str
    status: str  # as sent


def read_csv(data: bytes) -> list[Line]:
    """The lines of a CSV of statuses: a header naming a barcode column and a
    status column (``BARCODE_COLUMNS``, ``STATUS_COLUMNS``), any delimiter."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # what older systems write
    if not text.strip():
        raise CatalogError(_("The file of statuses is empty."), field="file")
    first = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().casefold() for h in next(reader)]
    barcode = next((header.index(c) for c in BARCODE_COLUMNS if c in header), None)
    status = next((header.index(c) for c in STATUS_COLUMNS if c in header), None)
    if barcode is None or status is None:
        raise CatalogError(_("The file needs a column of barcodes (%(barcodes)s) and one of statuses "
                             "(%(statuses)s); its header is: %(header)s.",
                             barcodes=", ".join(BARCODE_COLUMNS), statuses=", ".join(STATUS_COLUMNS),
                             header=", ".join(header[:12])), field="file")
    lines = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        cells = [c.strip() for c in row] + [""] * (max(barcode, status) + 1 - len(row))
        lines.append(Line(reader.line_num, cells[barcode], cells[status]))
    return lines


def read_json(body) -> list[Line]:
    """The lines of ``{"items": [{"barcode", "status"}, ...]}``."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise CatalogError(_("Send {\"items\": [{\"barcode\": ..., \"status\": ...}, ...]}."), field="items")
    lines = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            item = {}
        lines.append(Line(n, str(item.get("barcode") or "").strip(), str(item.get("status") or "").strip()))
    return lines


def read(data: bytes, content_type: str = "") -> list[Line]:
    """CSV or JSON, as the content says (or the content type)."""
    head = data.lstrip()[:1]
    if "json" in content_type or head in (b"{", b"["):
        try:
            return read_json(json.loads(data))
        except ValueError as exc:
            raise CatalogError(_("The JSON cannot be read: %(error)s.", error=str(exc)[:200]), field="items") \
                from None
    return read_csv(data)


def _status(raw: str) -> str | None:
    code = raw.strip().lower().replace(" ", "_")
    if code in ItemStatus.ALL:
        return code
    return status_from_text(raw, default=None)


def apply(session, partner, lines: Iterable[Line], user=None) -> dict:
    """Apply the statuses to the partner's live copies; the report says what
    changed and which lines were not applied, and why. Never commits."""
    lines = list(lines)
    if len(lines) > MAX_LINES:
        raise CatalogError(_("%(n)d statuses in one update: send at most %(max)d at a time.", n=len(lines),
                             max=MAX_LINES), field="items", code="too_large", status=413)
    copies: dict[str, list[tuple[int, str, int]]] = defaultdict(list)  # barcode -> (item, status, union record)
    for item_id, barcode, status, cluster_id in session.execute(
            select(Item.id, Item.barcode, Item.status, SourceRecord.cluster_id)
            .join(SourceRecord, SourceRecord.id == Item.source_record_id)
            .where(SourceRecord.partner_id == partner.id, SourceRecord.withdrawn_at.is_(None),
                   Item.barcode.is_not(None))):
        copies[barcode].append((item_id, status, cluster_id))
    problems: list[dict] = []
    # item -> (status sent, status now, union record); a later line for one barcode wins
    wanted: dict[int, tuple[str, str, int]] = {}
    for line in lines:
        status = _status(line.status)
        if not line.barcode:
            problems.append({"line": line.line, "barcode": "", "problem": "no_barcode"})
        elif status is None:
            problems.append({"line": line.line, "barcode": line.barcode, "problem": "status_unknown",
                             "status": line.status[:100]})
        elif line.barcode not in copies:
            problems.append({"line": line.line, "barcode": line.barcode, "problem": "barcode_unknown"})
        else:
            for item_id, old, cluster_id in copies[line.barcode]:
                wanted[item_id] = (status, old, cluster_id)
    changed = [(new, item_id) for item_id, (new, old, _c) in wanted.items() if new != old]
    _write(session, changed, {wanted[item_id][2] for _s, item_id in changed})
    session.add(StatusUpdate(partner_id=partner.id, user_id=getattr(user, "id", None), read=len(lines),
                             changed=len(changed), unchanged=len(wanted) - len(changed), problems=len(problems)))
    session.flush()
    return {"partner": partner.code, "read": len(lines), "changed": len(changed),
            "unchanged": len(wanted) - len(changed), "problem_count": len(problems),
            "problems": problems[:REPORTED]}


def summary_text(report: dict) -> str:
    """What an update did, in a sentence (the page's message, the command's line)."""
    return _("%(library)s: %(read)s statuses read, %(changed)s copies changed, %(unchanged)s already so, "
             "%(problems)s lines not applied.", library=report["partner"], read=report["read"],
             changed=report["changed"], unchanged=report["unchanged"], problems=report["problem_count"])


def problem_text(problem: dict) -> str:
    """A line not applied, as a librarian reads it."""
    if problem["problem"] == "no_barcode":
        return _("line %(line)d: no barcode", line=problem["line"])
    if problem["problem"] == "status_unknown":
        return _("line %(line)d (%(barcode)s): the status '%(status)s' says nothing known", line=problem["line"],
                 barcode=problem["barcode"], status=problem.get("status", ""))
    return _("line %(line)d: no copy of the library has the barcode %(barcode)s", line=problem["line"],
             barcode=problem["barcode"])




def set_copy_status(session, partner_id: int, cluster_id: int, barcode: str, status: str) -> bool:
    """One copy's status as the network's own lending changes it (lent to
    another library, back on the shelf, lost): that library's live copy of
    the union record with that barcode; the search index follows. Unlike a
    library's update it does not make the library's other statuses any
    fresher, so no StatusUpdate is kept. False when no such copy is listed.
    Never commits."""
    if status not in ItemStatus.ALL:
        raise ValueError(f"unknown copy status {status!r}")
    items = session.execute(
        select(Item.id, Item.status)
        .join(SourceRecord, SourceRecord.id == Item.source_record_id)
        .where(SourceRecord.partner_id == partner_id, SourceRecord.cluster_id == cluster_id,
               SourceRecord.withdrawn_at.is_(None), Item.barcode == barcode)).all()
    changed = [(status, item_id) for item_id, old in items if old != status]
    _write(session, changed, {cluster_id})
    return bool(items)


def _write(session, changed: list[tuple[str, int]], cluster_ids: set[int]) -> None:
    """Copies' new statuses, (status, item id), and the search index after them."""
    if changed:
        bulk.update_rows(session.connection(), Item.__tablename__, [("status", "varchar")], changed)
        search.reindex_clusters(session, cluster_ids)


__all__ = ["Line", "read", "read_csv", "read_json", "apply", "set_copy_status", "summary_text", "problem_text",
           "MAX_LINES"]
