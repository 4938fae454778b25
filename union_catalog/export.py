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

from ill.errors import NotFound
from ill.jsoncodec import dumps

from . import bulk, marc
from .errors import CatalogError
from .holdings import COPY_TAGS
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
    fields = [f for f in stored.get("fields", []) if not any(tag in COPY_TAGS for tag in f)]
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
