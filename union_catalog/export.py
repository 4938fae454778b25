"""A union record's records as MARC files, for copy cataloguing: a library
about to catalogue an edition takes a partner's record of it into its own
system instead of keying it again.

Each record goes out as its library sent it (as the importer read it:
decoded, in UTF-8, leader position 9 saying so), less that library's
holdings and items (holdings.COPY_TAGS), which describe its copies, not the
edition, and which the taking library would otherwise load as copies of
its own. One record or every record of the union record that its page
shows, as MARCXML, ISO 2709 or MARC-in-JSON.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pymarc
from flask_babel import gettext as _
from sqlalchemy import select

from ill.errors import NotFound
from ill.jsoncodec import dumps

from . import bulk, marc
from .errors import CatalogError
from .holdings import COPY_TAGS
from .models import SourceRecord
from .search import _partners, is_staff, visible_members

ISO2709_MAX = 99999  # bytes a record may have: its length is five digits


@dataclass(frozen=True)
class Format:
    mimetype: str
    extension: str


FORMATS = {
    "marcxml": Format("application/marcxml+xml", "xml"),
    "iso2709": Format("application/marc", "mrc"),
    "json": Format("application/json", "json"),
}


@dataclass
class MarcFile:
    data: bytes
    mimetype: str
    filename: str


def bibliographic(stored: dict) -> dict:
    """A record's MARC-in-JSON without holdings and items, its leader saying UTF-8."""
    leader = str(stored.get("leader") or "").ljust(24)[:24]
    # a control field without data (a SLiMS export's empty 005) would go out as "None"
    fields = [f for f in stored.get("fields", [])
              if not any(tag in COPY_TAGS or value in (None, "") for tag, value in f.items())]
    return {"leader": leader[:9] + "a" + leader[10:], "fields": fields}


def marc_file(session, cluster_id: int, user, fmt: str = "marcxml", member: int | None = None
              ) -> MarcFile:
    """The union record's records (or the one named by ``member``) as one
    file. CatalogError (400) names a format not offered; NotFound a member
    not on the union record's page; Gone a union record withdrawn."""
    if fmt not in FORMATS:
        raise CatalogError(_("MARC records can be downloaded as %(formats)s, not '%(value)s'.",
                             formats=", ".join(FORMATS), value=str(fmt)[:40]), field="format")
    members = visible_members(session, cluster_id, is_staff(user))
    if member is not None:
        members = [m for m in members if m.id == member]
        if not members:
            raise NotFound(_("Union record %(id)s has no record %(member)s.", id=cluster_id, member=member))
    codes = {pid: p["code"] for pid, p in _partners(session).items()}
    records = [bibliographic(bulk.json_value(m.marc) or {}) for m in members]
    if member is not None:
        one = members[0]
        name = f"union-record-{cluster_id}-{codes.get(one.partner_id, '')}-{one.control_number or one.ordinal}"
    else:
        name = f"union-record-{cluster_id}"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    kind = FORMATS[fmt]
    if fmt == "json":
        data = dumps(records[0] if member is not None else records).encode()
    elif fmt == "iso2709":
        data = b"".join(_iso2709(r, m, codes) for r, m in zip(records, members, strict=True))
    else:
        buffer = io.BytesIO()
        writer = pymarc.XMLWriter(buffer)
        for r in records:
            writer.write(marc.record_from_json(r))
        writer.close(close_fh=False)
        data = buffer.getvalue()
    return MarcFile(data, kind.mimetype, f"{name}.{kind.extension}")


def _iso2709(record: dict, member, codes: dict) -> bytes:
    data = marc.record_from_json(record).as_marc()
    if len(data) > ISO2709_MAX:
        raise CatalogError(
            _("%(library)s's record %(n)d is too long for ISO 2709 (%(size)d bytes, at most %(max)d): "
              "download it as MARCXML.", library=codes.get(member.partner_id, ""), n=member.ordinal,
              size=len(data), max=ISO2709_MAX), field="format")
    return data


# How complete a record says it is (leader/17, encoding level), best first:
# full (blank, OCLC's I), full but not examined (1, L), core (4), minimal
# (7, K, M); any other (abbreviated, partial, prepublication, unknown) last.
_LEVELS = {" ": 0, "I": 0, "1": 1, "L": 1, "4": 2, "7": 3, "K": 3, "M": 3}


def _fullness(stored: dict, record_id: int) -> tuple:
    """The order in which a union record's records are the one to copy: a
    record with its fixed-length data (008) first, since the leader of one
    without (SLiMS writes none) says "full level" by leaving it blank;
    then the fuller encoding level, more fields, the older record."""
    leader = str(stored.get("leader") or "").ljust(24)
    tags = [tag for f in stored.get("fields") or [] for tag in f]
    return "008" not in tags, _LEVELS.get(leader[17], 4), -len(tags), record_id


def copy_records(session, cluster_ids: list[int]) -> dict[int, pymarc.Record]:
    """For each union record, the one record a library copies when it takes
    the edition into its catalogue (SRU gives it): its fullest live member
    record (``_fullness``), as ``bibliographic`` gives it, numbered as the
    union record (001) with the number its library gave it kept in an 035,
    "(library)number", as a record copied from a shared catalogue keeps
    where it came from. Union records without a live record are left out."""
    if not cluster_ids:
        return {}
    rows = session.execute(
        select(SourceRecord.id, SourceRecord.cluster_id, SourceRecord.partner_id, SourceRecord.marc)
        .where(SourceRecord.cluster_id.in_(cluster_ids), SourceRecord.withdrawn_at.is_(None)))
    best: dict[int, tuple] = {}
    for rid, cid, pid, stored in rows:
        stored = bulk.json_value(stored) or {}
        rank = _fullness(stored, rid)
        if cid not in best or rank < best[cid][0]:
            best[cid] = (rank, pid, stored)
    codes = {pid: p["code"] for pid, p in _partners(session).items()}
    out = {}
    for cid, (_rank, pid, stored) in best.items():
        record = marc.record_from_json(bibliographic(stored))
        if record is not None:
            out[cid] = _numbered(record, cid, codes.get(pid, ""))
    return out


_STAMP = re.compile(r"\d{14}\.\d")


def _numbered(record: pymarc.Record, cluster_id: int, code: str) -> pymarc.Record:
    control = (record.get("001").data or "").strip() if record.get("001") else ""
    source = ((record.get("003").data or "").strip() if record.get("003") else "") or code
    record.remove_fields("001", "003")
    for stamp in record.get_fields("005"):  # "None" from SLiMS: no date and time of a change
        if not _STAMP.fullmatch((stamp.data or "").strip()):
            record.remove_field(stamp)
    record.add_ordered_field(pymarc.Field(tag="001", data=str(cluster_id)))
    if control:
        kept = f"({source}){control}" if source else control
        if kept not in (f.get("a") for f in record.get_fields("035")):
            record.add_ordered_field(pymarc.Field(tag="035", indicators=[" ", " "],
                                                  subfields=[pymarc.Subfield("a", kept)]))
    return record

