"""A request form filled in from an OpenURL: the link a journal database, a
discovery service or Google Scholar's library links make for "ask your
library for this" (ANSI/NISO Z39.88-2004, key/encoded values; and the older
OpenURL 0.1 names). The patron lands on ``/requests/new?<openurl>`` with the
citation typed for them.

Only what the request's citation holds is read; the rest (``sid``, ``rfr_id``,
``ctx_ver``...) is ignored. A DOI or PubMed id goes to the note.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

# A key of the 1.0 form ("rft.atitle") or its 0.1 name ("atitle").
KEYS = {
    "article_title": ("atitle",),
    "title": ("btitle", "jtitle", "title", "stitle"),
    "author": ("au",),
    "publisher": ("pub", "publisher"),
    "edition": ("edition",),
    "volume": ("volume",),
    "issue": ("issue",),
    "pages": ("pages",),
    "isbn": ("isbn",),
    "issn": ("issn", "eissn"),
}
# Genres whose item is part of a larger one: a copy, not a loan.
PART_GENRES = {"article", "bookitem", "proceeding", "conference", "preprint", "chapter"}
LIMITS = {"title": 500, "author": 300, "article_title": 500, "pages": 50, "volume": 30, "issue": 30,
          "publisher": 300, "edition": 100, "isbn": 30, "issn": 30}


def _get(args: Mapping[str, str], name: str) -> str:
    for key in (f"rft.{name}", name):
        value = args.get(key)
        if value:
            return " ".join(str(value).split())
    return ""


def is_openurl(args: Mapping[str, str]) -> bool:
    """Does the query string carry an OpenURL citation?"""
    return any(key.startswith("rft.") or key in ("genre", "atitle", "ctx_ver", "url_ver", "sid")
               for key in args)


def parse(args: Mapping[str, str]) -> tuple[str, dict, str]:
    """(service, citation, note) from an OpenURL's query arguments: ``copy``
    for an article or a chapter, else ``loan``; the citation's fields, cut
    to their lengths; a note naming a DOI or PubMed id."""
    citation: dict[str, str] = {}
    for field, names in KEYS.items():
        for name in names:
            value = _get(args, name)
            if value:
                citation[field] = value[:LIMITS[field]]
                break
    if "author" not in citation:
        last, first = _get(args, "aulast"), _get(args, "aufirst") or _get(args, "auinit")
        if last:
            citation["author"] = (f"{last}, {first}" if first else last)[:LIMITS["author"]]
    if "pages" not in citation:
        start, end = _get(args, "spage"), _get(args, "epage")
        if start:
            citation["pages"] = (f"{start}-{end}" if end else start)[:LIMITS["pages"]]
    year = re.search(r"\b(1\d{3}|20\d{2}|2100)\b", _get(args, "date") or _get(args, "year"))
    if year:
        citation["year"] = year.group(1)
    genre = (_get(args, "genre") or "").lower()
    part = genre in PART_GENRES or "article_title" in citation
    service = "copy" if part else "loan"
    ids = [str(v) for key in ("rft_id", "id", "pmid", "doi") for v in _all(args, key)]
    note = []
    for value in ids:
        doi = re.search(r"(10\.\d{4,9}/\S+)", value)
        if doi:
            note.append(f"DOI {doi.group(1)}")
        elif value.lower().startswith(("info:pmid/", "pmid:")):
            note.append("PMID " + value.split("/", 1)[-1].split(":", 1)[-1])
    return service, citation, "; ".join(dict.fromkeys(note))


def prefill(session, args: Mapping[str, str]) -> tuple[dict, object]:
    """The request form's fields from an OpenURL, and the union record it
    names when a loan's valid ISBN (or ISSN) finds exactly one; a number that
    is no ISBN or ISSN finds nothing, and the form stays as the link typed it."""
    kind, citation, note = parse(args)
    form = {"service": kind, **citation, "note": note}
    if citation.get("issn") and not citation.get("isbn"):
        form["isbn"] = citation["issn"]  # the form's one field for both
    if kind != "loan":
        return form, None
    return form, record_for(session, citation.get("isbn") or "", citation.get("issn") or "")


def record_for(session, isbn: str, issn: str = ""):
    """The one union record a valid ISBN (else ISSN) finds, or None: none, or
    more than one (a number on several editions names none of them)."""
    from union_catalog import search, searchtext
    from union_catalog.models import Cluster

    isbn, issn = searchtext.isbn13(isbn or ""), searchtext.issn8(issn or "")
    if not (isbn or issn):
        return None
    asked = {"isbn": isbn} if isbn else {"issn": issn}
    total, ids, _facets = search.Searcher(session, search.Query(**asked, per_page=2)).run()
    return session.get(Cluster, ids[0]) if total == 1 else None


def _all(args, key) -> list:
    getlist = getattr(args, "getlist", None)
    if getlist is not None:
        return getlist(key)
    value = args.get(key)
    return [value] if value else []
