"""Browsing the catalogue's headings: its authors' names and its subjects in
filing order, each with the number of union records under it, as a card
catalogue's drawers and an OPAC's browse list show them.

The rules, in one place:

- Which headings a union record files under (``of_members``): every name
  heading of its records (1XX and 7XX, as describe() keeps them in
  ``names``) and every subject heading (6XX, subdivisions joined by " -- "),
  each once.
- Where a heading files (``filing``): a name as a sort by author files it
  (``searchtext.sort_author``: folded, without a hyphened Arabic article,
  "al-Ghazali, Abu Hamid" under "ghazali abu hamid"); a subject folded part
  by part, with its subdivisions after " -- ", so that "Islam -- History"
  files after "Islam" and before "Islam and state", as catalogues file
  them. Headings that file alike are one heading, shown in the form most of
  their union records give.
- The search index keeps the rows (``SearchHeading``, written by
  ``search.Reindex`` with a union record's words, so an import keeps them
  current); ``browse`` reads a page of them, and the search filters
  ``author_heading`` and ``subject_heading`` find the union records under
  one (``restriction``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from . import matching, searchtext
from .errors import CatalogError

KINDS = ("author", "subject")
KIND_LABELS = {"author": _l("Authors"), "subject": _l("Subjects")}
# the search filter that finds the union records under a heading of each kind
FILTERS = {"author": "author_heading", "subject": "subject_heading"}
SUBDIVISION = " -- "
PER_PAGE = 25
MAX_PER_PAGE = 100
TABLE = "catalog_search_headings"


@lru_cache(maxsize=1 << 16)
def filing(kind: str, heading: str | None) -> str:
    """Where a heading (or what someone typed to start browsing at) files.
    Cached: an import files the same names and subjects again and again."""
    if kind == "author":
        return searchtext.sort_author(heading)
    parts = (searchtext.fold(part) for part in (heading or "").split("--"))
    return SUBDIVISION.join(p for p in parts if p)


def of_members(names: list[str], subjects: list[str]) -> list[tuple[str, str, str]]:
    """A union record's headings from its records' names and subjects (in
    the records' order): (kind, filing, heading as shown), each filing once,
    in the form it first comes in."""
    out: dict[tuple[str, str], str] = {}
    for kind, headings in (("author", names), ("subject", subjects)):
        for heading in headings:
            key = (kind, filing(kind, heading))
            if key[1] and key not in out:
                out[key] = heading
    return [(kind, key, heading) for (kind, key), heading in out.items()]


def digest(names: list[str], subjects: list[str]) -> int:
    """A union record's names and subjects (each once, as its records give
    them) as a signed 64-bit number: kept beside its search document
    (``SearchDoc.headings_digest``), so that its headings are written again
    only when they change."""
    return searchtext.digest("\x1f".join(("\x1e".join(names), "\x1e".join(subjects))))


def marc_subjects(marc: dict | None) -> list[str]:
    """The subject headings (6XX) of a MARC-in-JSON record, subdivisions
    joined by " -- ": for records described before describe() kept them,
    and for records read as they are (Dublin Core)."""
    out = []
    for entry in (marc or {}).get("fields", []):
        for tag, value in entry.items():
            if not tag.startswith("6") or not isinstance(value, dict):
                continue
            parts = [v for sf in value.get("subfields", []) for code, v in sf.items()
                     if code in "abcdvxyz" and v]
            if parts:
                out.append(SUBDIVISION.join(p.strip(" .,;:/") for p in parts))
    return out


def marc_names(marc: dict | None) -> list[str]:
    """The name headings of a MARC-in-JSON record, as describe() gives them
    (``names``): for records described before it kept them."""
    out: list[str] = []
    for entry in (marc or {}).get("fields", []):
        for tag, value in entry.items():
            if tag not in matching.NAME_TAGS or not isinstance(value, dict):
                continue
            codes = matching.NAME_SUBFIELDS[tag[1:]]
            name = matching.strip_isbd(" ".join(
                v for sf in value.get("subfields", []) for code, v in sf.items() if code in codes and v))
            if name and name not in out:
                out.append(name)
    return out


def of_record(data: dict, marc: Callable[[], dict | None]) -> tuple[list[str], list[str]]:
    """A record's names and subjects as it gives them: from its facts
    (describe()), or from its MARC-in-JSON (``marc()``, read only then) where
    its facts predate them."""
    names, subjects = data.get("names"), data.get("subjects")
    if names is None or subjects is None:
        record = marc()
        names = marc_names(record) if names is None else names
        subjects = marc_subjects(record) if subjects is None else subjects
    return list(names), list(subjects)


def kind_arg(kind: str) -> str:
    if kind not in KINDS:
        raise CatalogError(
            _("Headings are browsed by author or by subject, not '%(value)s'.", value=kind[:40]),
            field="kind")
    return kind


def restriction(kind: str, heading: str, params: dict, name: str) -> str:
    """SQL: the union record (its ``cluster_id``) files under this heading."""
    params[f"{name}_kind"], params[f"{name}_filing"] = kind, filing(kind, heading)
    return (f"cluster_id IN (SELECT cluster_id FROM {TABLE} WHERE kind = :{name}_kind "
            f"AND filing = :{name}_filing)")


@dataclass
class Heading:
    heading: str
    filing: str
    records: int


@dataclass
class BrowsePage:
    kind: str
    start: str  # the filing browsed from ("" from the beginning)
    headings: list[Heading] = field(default_factory=list)
    next: str | None = None  # where the next page starts
    previous: str | None = None  # browse back from here (``before``)


# The page's filings by a loose index scan: each the next one after the last
# (one index probe apiece), not every union record of every heading walked
# to find where the next heading starts; their records are counted once, in _FORMS.
_WALK = ("WITH RECURSIVE walk(filing, n) AS ("
         "SELECT (SELECT {edge_fn}(filing) FROM " + TABLE + " WHERE kind = :kind AND filing {first} :edge), 1 "
         "UNION ALL SELECT (SELECT {edge_fn}(filing) FROM " + TABLE + " WHERE kind = :kind AND filing {then} "
         "walk.filing), walk.n + 1 FROM walk WHERE walk.filing IS NOT NULL AND walk.n < :n) "
         "SELECT filing FROM walk WHERE filing IS NOT NULL ORDER BY n")
_AFTER = text(_WALK.format(edge_fn="min", first=">=", then=">"))
_BEFORE = text(_WALK.format(edge_fn="max", first="<", then="<"))
_ANY_AFTER = text(f"SELECT 1 FROM {TABLE} WHERE kind = :kind AND filing >= :edge LIMIT 1")
_ANY_BEFORE = text(f"SELECT 1 FROM {TABLE} WHERE kind = :kind AND filing < :edge LIMIT 1")
_FORMS = f"SELECT filing, heading, count(*) FROM {TABLE} WHERE kind = :kind AND filing IN ({{binds}}) " \
         "GROUP BY filing, heading"


def browse(session, kind: str, start: str = "", *, before: str | None = None,
           per_page: int = PER_PAGE) -> BrowsePage:
    """A page of headings of this kind in filing order: from where ``start``
    files (what someone typed, or a heading), or the page just before
    ``before``; each with how many union records file under it."""
    kind = kind_arg(kind)
    if before is not None:
        edge = filing(kind, before)
        filings = session.execute(_BEFORE, {"kind": kind, "edge": edge, "n": per_page + 1}).scalars().all()
        earlier = len(filings) > per_page
        filings = list(reversed(filings[:per_page]))
        page = BrowsePage(kind, filings[0] if filings else edge)
        page.previous = filings[0] if earlier and filings else None
        page.next = edge if _any(session, _ANY_AFTER, kind, edge) else None
    else:
        edge = filing(kind, start)
        filings = session.execute(_AFTER, {"kind": kind, "edge": edge, "n": per_page + 1}).scalars().all()
        page = BrowsePage(kind, edge)
        page.next = filings[per_page] if len(filings) > per_page else None
        filings = filings[:per_page]
        # nothing files between the edge and the page's first heading: what
        # comes before one comes before the other (past the last heading,
        # the way back starts at the edge)
        if _any(session, _ANY_BEFORE, kind, edge):
            page.previous = filings[0] if filings else edge
    forms = _forms(session, kind, filings)
    page.headings = [Heading(*forms[f]) for f in filings]
    return page


def _any(session, statement, kind: str, edge: str) -> bool:
    """Whether some heading files after (or before) the edge: one index probe,
    nothing counted."""
    return session.execute(statement, {"kind": kind, "edge": edge}).first() is not None


def _forms(session, kind: str, filings: list[str]) -> dict[str, tuple[str, str, int]]:
    """Each filing's heading as shown (the form most of its union records
    give; of equals, the first in byte order), the filing and its union
    records, counted in one pass."""
    if not filings:
        return {}
    params = {"kind": kind, **{f"f{i}": f for i, f in enumerate(filings)}}
    sql = _FORMS.format(binds=", ".join(f":f{i}" for i in range(len(filings))))
    counts: dict[str, Counter] = {}
    for f, heading, n in session.execute(text(sql), params):
        counts.setdefault(f, Counter())[heading] = n
    return {f: (min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0], f, c.total()) for f, c in counts.items()}
