"""A union record as a citation, for reference managers (Zotero, Mendeley,
EndNote take RIS; LaTeX writers BibTeX), and as the meta tags Zotero's
browser connector reads off the record page (Highwire Press ``citation_*``).

The description is the union record's (title, main author, year,
publisher, edition, identifiers, language, subjects); the other authors
(700 ``$a``) and the place of publication (264/260 ``$a``) come from the
first of its records that has them, as its page lists them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from . import bulk, search, searchtext
from .errors import CatalogError
from .matching import strip_isbd
from .models import Cluster

# RIS reference types (RIS format specification, Research Information Systems)
RIS_TYPES = {"book": "BOOK", "serial": "JFULL", "thesis": "THES", "map": "MAP", "score": "MUSIC",
             "visual": "VIDEO", "audio": "SOUND", "computer": "COMP"}
BIBTEX_TYPES = {"book": "book", "thesis": "phdthesis", "serial": "periodical"}
FORMATS = ("ris", "bibtex")


@dataclass
class Citation:
    id: int
    title: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    publisher: str = ""
    place: str = ""
    edition: str = ""
    isbn: list[str] = field(default_factory=list)
    issn: list[str] = field(default_factory=list)
    language: str = ""
    format: str = "book"
    subjects: list[str] = field(default_factory=list)
    url: str = ""


def _sub(record: dict, tags: tuple[str, ...], code: str) -> list[str]:
    out = []
    for f in record.get("fields", []):
        for tag, value in f.items():
            if tag in tags and isinstance(value, dict):
                for sub in value.get("subfields", []):
                    if code in sub and sub[code].strip():
                        out.append(sub[code])
    return out


def of(session, cluster_id: int, user=None, url: str = "") -> Citation:
    """The citation of a union record its page shows (404, 410 as the page)."""
    members = search.visible_members(session, cluster_id, search.is_staff(user))
    live = [m for m in members if m.withdrawn_at is None] or members
    cluster = session.get(Cluster, cluster_id)  # read by visible_members: no second query
    return _of_cluster(cluster, live, url)


def _of_cluster(cluster, members: list, url: str) -> Citation:
    """The citation of a union record from its records (those it is cited from)."""
    description = {**search._description(cluster), "subjects": search.record_headings(members)[1]}
    return _cite(description, [bulk.json_value(m.marc) for m in members], url)


def of_many(session, cluster_ids: list[int], url_of) -> list[Citation]:
    """The citations of several union records (a page of search results),
    in the order given, each as ``of`` gives it to a patron: from its live
    records (a union record without any is left out); ``url_of(id)`` its
    page's address. Two queries, however many."""
    from sqlalchemy import select

    from .models import SourceRecord

    clusters = {c.id: c for c in session.scalars(select(Cluster).where(Cluster.id.in_(cluster_ids)))}
    members: dict[int, list] = {}
    for m in session.scalars(select(SourceRecord).where(
            SourceRecord.cluster_id.in_(cluster_ids), SourceRecord.withdrawn_at.is_(None))
            .order_by(SourceRecord.partner_id, SourceRecord.ordinal)):
        members.setdefault(m.cluster_id, []).append(m)
    out = []
    for cid in cluster_ids:
        live = members.get(cid)
        if cid not in clusters or not live:
            continue
        out.append(_of_cluster(clusters[cid], live, url_of(cid)))
    return out


def from_record(rec: dict, marcs: dict[int, dict], url: str = "") -> Citation:
    """The citation of a union record as its page has it already
    (``search.record``) with its records' MARC by id: nothing read again."""
    live = [m["id"] for m in rec["members"] if not m.get("withdrawn")] or [m["id"] for m in rec["members"]]
    return _cite(rec, [marcs.get(rid) for rid in live], url)


def _cite(description: dict, marcs: list[dict | None], url: str) -> Citation:
    """description: the union record's (``search._description`` and its
    subjects); marcs: its live records' MARC-in-JSON, in the page's order."""
    d = description
    cite = Citation(id=d["id"], title=strip_isbd(d["title"]), year=d["year"],
                    publisher=strip_isbd(d["publisher"]), edition=strip_isbd(d["edition"]),
                    isbn=list(d["isbn"]), issn=list(d["issn"]), language=d["language"] or "",
                    format=d["format"] or "book", subjects=list(d["subjects"]), url=url)
    if d["author"]:
        cite.authors.append(strip_isbd(d["author"]))
    for marc in marcs:
        others = [strip_isbd(a) for a in _sub(marc or {}, ("700",), "a")]
        if others:
            cite.authors += [a for a in others if a and a not in cite.authors]
            break
    for marc in marcs:
        places = [strip_isbd(p) for p in _sub(marc or {}, ("264", "260"), "a")]
        if places and places[0]:
            cite.place = places[0]
            break
    return cite


def ris(c: Citation) -> str:
    lines = [("TY", RIS_TYPES.get(c.format, "GEN")), ("TI", c.title)]
    lines += [("AU", a) for a in c.authors]
    if c.year:
        lines.append(("PY", str(c.year)))
    lines += [(tag, value) for tag, value in (("ET", c.edition), ("PB", c.publisher), ("CY", c.place),
                                              ("LA", c.language)) if value]
    lines += [("SN", n) for n in [*c.isbn, *c.issn]]
    lines += [("KW", s) for s in c.subjects]
    if c.url:
        lines.append(("UR", c.url))
    lines.append(("ER", ""))
    # "TAG  - value", one per line, CRLF as the specification has it
    return "".join(f"{tag}  - {' '.join(str(value).split())}\r\n" for tag, value in lines)


_BIBTEX_SPECIAL = str.maketrans({"{": r"\{", "}": r"\}", "\\": r"\textbackslash{}", "%": r"\%",
                                 "&": r"\&", "#": r"\#", "$": r"\$", "_": r"\_", "~": r"\~{}",
                                 "^": r"\^{}"})


def _bib(value: str) -> str:
    return " ".join(str(value).split()).translate(_BIBTEX_SPECIAL)


def bibtex_key(c: Citation) -> str:
    """First author's surname, year, first word of the title: 'shihab2002tafsir'."""
    def ascii_word(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", searchtext.fold(text))

    surname = ascii_word(re.split(r"[,\s]", c.authors[0].strip(), maxsplit=1)[0]) if c.authors else ""
    words = [ascii_word(w) for w in c.title.split()]
    first = next((w for w in words if len(w) > 3), next((w for w in words if w), ""))
    return (surname + str(c.year or "") + first) or f"record{c.id}"


def bibtex(c: Citation, key: str = "") -> str:
    # the title in a second pair of braces keeps its capitals as catalogued
    fields = [("title", "{" + _bib(c.title) + "}"),
              ("author", " and ".join(_bib(a) for a in c.authors)),
              ("year", str(c.year or "")), ("edition", _bib(c.edition)),
              ("school" if c.format == "thesis" else "publisher", _bib(c.publisher)),
              ("address", _bib(c.place)), ("isbn", ", ".join(c.isbn)), ("issn", ", ".join(c.issn)),
              ("language", c.language), ("keywords", _bib(", ".join(c.subjects))), ("url", c.url)]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{BIBTEX_TYPES.get(c.format, 'misc')}{{{key or bibtex_key(c)},\n{body}\n}}\n"


def check_format(fmt: str, name: str = "format") -> str:
    """fmt, one of FORMATS; CatalogError (400) naming the parameter ``name`` else."""
    if fmt not in FORMATS:
        raise CatalogError(_("%(name)s: use one of %(formats)s.", name=name, formats=", ".join(FORMATS)),
                           field=name)
    return fmt


def render(c: Citation, fmt: str) -> tuple[str, str, str]:
    """(text, mimetype, file extension) of the citation in fmt."""
    if check_format(fmt) == "ris":
        return ris(c), "application/x-research-info-systems", "ris"
    return bibtex(c), "application/x-bibtex", "bib"


def render_many(cites: list[Citation], fmt: str) -> tuple[str, str, str]:
    """(text, mimetype, file extension) of several citations in fmt, one
    file: RIS records one after the other; BibTeX entries whose keys are
    made unique as BibTeX styles do, by a letter (shihab2002tafsir,
    shihab2002tafsira ...)."""
    if check_format(fmt) == "ris":
        return "".join(ris(c) for c in cites), "application/x-research-info-systems", "ris"
    seen: dict[str, int] = {}
    entries = []
    for c in cites:
        key = bibtex_key(c)
        n = seen.get(key, 0)
        seen[key] = n + 1
        entries.append(bibtex(c, key + _letters(n)))
    return "\n".join(entries), "application/x-bibtex", "bib"


def _letters(n: int) -> str:
    """"" for 0, then a, b, ... z, aa, ab ..."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def meta_tags(c: Citation) -> list[tuple[str, str]]:
    """Highwire Press tags for the record page, as Zotero reads them."""
    tags = [("citation_title", c.title)]
    tags += [("citation_author", a) for a in c.authors]
    if c.year:
        tags.append(("citation_publication_date", str(c.year)))
    tags += [(name, value) for name, value in (("citation_publisher", c.publisher),
                                                ("citation_language", c.language)) if value]
    if c.format == "thesis" and c.publisher:
        tags.append(("citation_dissertation_institution", c.publisher))
    tags += [("citation_isbn", n) for n in c.isbn] + [("citation_issn", n) for n in c.issn]
    tags += [("citation_keywords", s) for s in c.subjects]
    return tags
