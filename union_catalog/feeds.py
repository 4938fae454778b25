"""A search as an Atom feed (RFC 4287), newest union records first, for
feed readers: a reader or a librarian follows what the network gains on a
subject, by an author, or at a library."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ill import clock

from .models import Cluster
from .xmltree import child

NS = "http://www.w3.org/2005/Atom"


def _stamp(moment) -> str:
    return (clock.as_utc(moment) or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(session, rows: list[dict], query, *, self_url: str, page_url: str, record_url) -> bytes:
    """The feed of a search's rows (``search.results``, sorted newest first):
    each union record an entry, with its description and where it is held."""
    made = dict(session.execute(select(Cluster.id, Cluster.created_at)
                                .where(Cluster.id.in_([r["id"] for r in rows]))).all())
    words = " ".join(v for v in (query.q, query.title, query.author, query.subject) if v)
    feed = ET.Element("feed", {"xmlns": NS})
    child(feed, "title", _("Union catalogue: %(search)s", search=words) if words else _("Union catalogue"))
    child(feed, "subtitle", _("The newest union records this search finds"))
    child(feed, "id", self_url)
    child(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    child(feed, "link", rel="alternate", type="text/html", href=page_url)
    child(feed, "updated", _stamp(max(made.values(), default=None)))
    child(child(feed, "author"), "name", _("Union catalogue"))
    for row in rows:
        entry = child(feed, "entry")
        url = record_url(row["id"])
        child(entry, "id", url)
        child(entry, "title", row["title"] or "?")
        if row.get("author"):
            child(child(entry, "author"), "name", row["author"])
        child(entry, "link", rel="alternate", type="text/html", href=url)
        child(entry, "updated", _stamp(made.get(row["id"])))
        parts = [", ".join(v for v in (row.get("publisher"), str(row["year"] or "")) if v)]
        held = ", ".join(f'{h["library_name"]} ({h["library"]})' for h in row["holdings"])
        if held:
            parts.append(_("held by %(libraries)s", libraries=held))
        child(entry, "summary", "; ".join(p for p in parts if p))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
