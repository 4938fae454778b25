"""The union catalogue as an SRU server (Search/Retrieve via URL, version
1.2, with 1.1 accepted): the protocol with which library systems search
another catalogue, for copy cataloguing above all. Koha's "Z39.50/SRU
servers", SLiMS's copy cataloguing and any ZOOM or YAZ client ask
``/catalog/sru`` in CQL and take MARCXML (or MODS) back.

What a CQL query may say (``to_query``) is what the search page can:
words anywhere, in the title, author or subject, an ISBN or ISSN, a year
or a range of years, a language, a format, a holding library, a copy on
the shelf, joined by
``and``; a word clause may ask for all its words (``=``, ``all``), for them
side by side (``adj``, ``==``) or for any one of them (``any``, as SLiMS's
copy cataloguing asks). The rest of CQL (``or``, ``not``, proximity,
masking other than a trailing ``*``) is answered by the standard diagnostic
naming it, as SRU asks, never by a search that silently means something
else.

Each hit is one union record, given as the MARC record a library would copy
(``export.copy_records``: its fullest member record, less that library's
copies, its 001 the union record's number), that record as MODS
(``mods.from_marc``), or simple Dublin Core; what each library holds of it
comes along in ``extraRecordData``.

The search itself is ``search.Searcher``'s, the same as the pages' and the
JSON API's: same engine, same ranking, same filters."""
from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pymarc
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import dublin_core, export, mods, searchtext
from . import search as search_service
from .errors import CatalogError
from .xmltree import child, document

# cql-parser logs every query it cannot parse as an error: a client's typo
# is answered by a diagnostic, not written to the server's log.
logging.getLogger("cql").setLevel(logging.CRITICAL)

VERSIONS = ("1.1", "1.2")
VERSION = "1.2"
NS = {
    "srw": "http://www.loc.gov/zing/srw/",
    "diag": "http://www.loc.gov/zing/srw/diagnostic/",
    "zr": "http://explain.z3950.org/dtd/2.0/",
    "marc": pymarc.marcxml.MARC_XML_NS,
    "srw_dc": "info:srw/schema/1/dc-schema",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ill": "info:srw/extension/ill-network/holdings-v1",
    "mods": "http://www.loc.gov/mods/v3",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

DEFAULT_RECORDS = 10
MAX_RECORDS = 50
MAX_QUERY = 2000  # characters of CQL: a catalogue's question is far shorter


@dataclass(frozen=True)
class Schema:
    name: str
    identifier: str
    title: str


SCHEMAS = (
    Schema("marcxml", "info:srw/schema/1/marcxml-v1.1", "MARCXML"),
    Schema("mods", "info:srw/schema/1/mods-v3.7", "MODS 3.7"),
    Schema("dc", "info:srw/schema/1/dc-v1.1", "Dublin Core"),
)
# a schema is asked for by its short name or its identifier, in any case, or
# by the names clients use for them (SLiMS asks for "marc")
_SCHEMA_BY_NAME = {key.lower(): s for s in SCHEMAS for key in (s.name, s.identifier)}
for _alias, _name in (("marc", "marcxml"), ("marc21", "marcxml"), ("info:srw/schema/1/marcxml-v1.2", "marcxml"),
                      (mods.NS, "mods"), ("mods3", "mods"),
                      *((f"info:srw/schema/1/mods-v3.{n}", "mods") for n in range(8))):
    _SCHEMA_BY_NAME[_alias] = _SCHEMA_BY_NAME[_name]


@dataclass(frozen=True)
class Index:
    """A CQL index and what of the search it sets: a text field of
    ``search.Query`` (words), ``isbn``/``issn`` (an identifier), ``year``
    (a number compared), a filter (``libraries``, ``languages``,
    ``formats``: codes), a flag (``available``: 1 or 0), or ``all``
    (every record)."""

    kind: str
    title: object  # lazy text, for explain
    names: tuple[str, ...]  # (set, name), the first the one explain gives


_TEXT, _IDENT, _YEAR, _FILTER, _FLAG, _ALL = "text", "ident", "year", "filter", "flag", "all"
INDEXES = {
    "q": Index(_TEXT, _l("Any word"), ("cql.serverChoice", "cql.anywhere", "cql.keywords", "dc.anywhere",
                                        "bath.anywhere", "anywhere", "keyword", "kw")),
    "title": Index(_TEXT, _l("Title"), ("dc.title", "bath.title", "title")),
    "author": Index(_TEXT, _l("Author"), ("dc.creator", "dc.author", "bath.author", "bath.name",
                                          "bath.personalName", "bath.corporateName", "author", "creator")),
    "subject": Index(_TEXT, _l("Subject"), ("dc.subject", "bath.subject", "bath.topicalSubject", "subject")),
    "isbn": Index(_IDENT, _l("ISBN"), ("bath.isbn", "isbn", "dc.identifier")),
    "issn": Index(_IDENT, _l("ISSN"), ("bath.issn", "issn")),
    "year": Index(_YEAR, _l("Year of publication"), ("dc.date", "bath.date", "date", "year")),
    "languages": Index(_FILTER, _l("Language (MARC code: ind, eng, ara ...)"), ("dc.language", "language")),
    "formats": Index(_FILTER, _l("Format (book, serial, thesis ...)"), ("dc.type", "dc.format", "format")),
    "libraries": Index(_FILTER, _l("Holding library (its code)"), ("ill.library", "library")),
    "available": Index(_FLAG, _l("A copy on the shelf now (1), in the libraries asked for or any"),
                       ("ill.available",)),
    "all": Index(_ALL, _l("Every record"), ("cql.allRecords",)),
}
_FIELD_OF = {name.lower(): key for key, index in INDEXES.items() for name in index.names}
_WORD_RELATIONS = ("=", "all", "adj", "==", "any")
_YEAR_RELATIONS = ("=", "==", "<", "<=", ">", ">=", "within")
_CODE_RELATIONS = ("=", "==", "any")
_SORTS = {  # sort key -> (search sort ascending, descending)
    "dc.date": ("year_asc", "year_desc"), "date": ("year_asc", "year_desc"),
    "year": ("year_asc", "year_desc"),
    "dc.title": ("title", None), "title": ("title", None),
    "dc.creator": ("author", None), "creator": ("author", None), "author": ("author", None),
}


class Diagnostic(Exception):
    """An SRU diagnostic (info:srw/diagnostic/1/<code>): the standard's
    number, what it was about (``details``: the parameter, index, relation
    ... as asked) and a message for the person reading it."""

    def __init__(self, code: int, details: str, message: str):
        super().__init__(message)
        self.code, self.details, self.message = code, str(details)[:200], str(message)


# --- the request ------------------------------------------------------------------


@dataclass
class Request:
    operation: str
    version: str
    query: str = ""
    start: int = 1
    maximum: int = DEFAULT_RECORDS
    schema: Schema = SCHEMAS[0]
    packing: str = "xml"
    sort_keys: str = ""
    echoed: dict = field(default_factory=dict)  # the parameters as asked, echoed back


def read_request(args) -> Request:
    """The SRU request of a query string; Diagnostic for anything it cannot be."""
    version = (args.get("version") or VERSION).strip()
    operation = (args.get("operation") or "").strip()
    if not operation:
        operation = "searchRetrieve" if args.get("query") is not None else "explain"
    if version not in VERSIONS:
        raise Diagnostic(5, VERSION, _("Unsupported version %(version)s: this server speaks SRU %(versions)s.",
                                       version=version[:20], versions=", ".join(VERSIONS)))
    if operation not in ("explain", "searchRetrieve"):
        raise Diagnostic(4, operation, _("Unsupported operation %(operation)s: ask for searchRetrieve or explain.",
                                         operation=operation[:40]))
    req = Request(operation=operation, version=version)
    if operation == "explain":
        return req
    req.query = args.get("query") or ""
    if len(req.query) > MAX_QUERY:
        raise Diagnostic(6, "query", _("Unsupported parameter value: a query may have at most %(max)d "
                                       "characters, not %(length)d.", max=MAX_QUERY, length=len(req.query)))
    if not req.query.strip():
        raise Diagnostic(7, "query", _("The parameter query is missing: say what to search for, in CQL "
                                       "(dc.title = \"tafsir\")."))
    req.start = _number(args, "startRecord", 1, 1)
    req.maximum = min(_number(args, "maximumRecords", DEFAULT_RECORDS, 0), MAX_RECORDS)
    schema = (args.get("recordSchema") or SCHEMAS[0].name).strip()
    if schema.lower() not in _SCHEMA_BY_NAME:
        raise Diagnostic(66, schema, _("Unknown schema for retrieval %(schema)s: ask for %(schemas)s.",
                                       schema=schema[:80], schemas=", ".join(s.name for s in SCHEMAS)))
    req.schema = _SCHEMA_BY_NAME[schema.lower()]
    req.packing = (args.get("recordPacking") or "xml").strip().lower()
    if req.packing not in ("xml", "string"):
        raise Diagnostic(71, req.packing, _("Unsupported record packing %(packing)s: ask for xml or string.",
                                            packing=req.packing[:40]))
    req.sort_keys = (args.get("sortKeys") or "").strip()
    req.echoed = {"version": version, "query": req.query, "startRecord": str(req.start),
                  "maximumRecords": str(req.maximum), "recordPacking": req.packing,
                  "recordSchema": req.schema.name, **({"sortKeys": req.sort_keys} if req.sort_keys else {})}
    return req


def _number(args, name: str, default: int, low: int) -> int:
    try:
        value = search_service._int_arg(args, name, name, low, 2**31 - 1)
    except CatalogError as exc:
        raise Diagnostic(6, name, _("Unsupported parameter value: %(why)s", why=str(exc))) from None
    return default if value is None else value


# --- CQL to a search ----------------------------------------------------------------

_parsers = threading.local()


def parse_cql(text: str):
    """The parse tree of a CQL query (cql-parser's), Diagnostic 10 where it is not CQL.
    One parser per thread, built once: building one costs a hundred parses."""
    import cql
    from cql.lexer import CQLLexer
    from cql.parser import CQLParser12

    parser = getattr(_parsers, "parser", None)
    if parser is None:
        lexer = CQLLexer()
        lexer.build()
        parser = CQLParser12()
        parser.build(lexer)
        _parsers.parser = parser
    try:
        tree = parser.parse(text, tracking=True)
    except (cql.CQLParserError, cql.CQLLexerError, ValueError) as exc:
        raise Diagnostic(10, text, _("Query syntax error: %(why)s", why=str(exc)[:200])) from None
    if tree is None:
        raise Diagnostic(10, text, _("Query syntax error: the query ends too soon."))
    return tree


@dataclass
class Asked:
    """What a CQL query asks, gathered clause by clause."""

    text: dict = field(default_factory=dict)  # Query text field -> its clauses' terms
    alternatives: list = field(default_factory=list)  # (field, words): any of them (relation any)
    year_from: int | None = None
    year_to: int | None = None
    codes: dict = field(default_factory=dict)  # filter -> set of codes, None for "no filter yet"
    sort: str = search_service.DEFAULT_SORT
    available: bool = False


def to_query(cql_text: str, sort_keys: str = "") -> search_service.Query | None:
    """The search a CQL query asks for, or None when it can find nothing
    (two clauses that exclude each other, as language = ind and language = eng)."""
    tree = parse_cql(cql_text)
    asked = Asked()
    _gather(tree.root, asked)
    specs = getattr(tree.root, "sortSpecs", None) or []
    if specs and sort_keys:
        raise Diagnostic(80, "sortKeys", _("Sort the results either by sortKeys or by the query's sortBy, "
                                           "not both."))
    if specs:
        asked.sort = _sort_by(specs)
    elif sort_keys:
        asked.sort = _sort_keys(sort_keys)
    if any(codes is not None and not codes for codes in asked.codes.values()):
        return None
    if asked.year_from is not None and asked.year_to is not None and asked.year_from > asked.year_to:
        return None
    args = {name: " ".join(terms) for name, terms in asked.text.items()}
    for name, codes in asked.codes.items():
        args[{"libraries": "library", "languages": "language", "formats": "format"}[name]] = ",".join(sorted(codes))
    if asked.year_from is not None:
        args["year_from"] = str(asked.year_from)
    if asked.year_to is not None:
        args["year_to"] = str(asked.year_to)
    args["sort"] = asked.sort
    if asked.available:
        args["available"] = "1"
    try:
        query = search_service.parse_query(args)
    except CatalogError as exc:  # an ISBN that is none, a year out of range ...
        raise Diagnostic(36, exc.field or cql_text, _("Term in invalid format for index or relation: %(why)s",
                                                      why=str(exc))) from None
    query.alternatives = asked.alternatives
    return query


def _gather(node, asked: Asked) -> None:
    if hasattr(node, "operator"):  # a boolean: its two sides
        op = str(node.operator.value).lower()
        if op != "and":
            raise Diagnostic(37, op, _("Unsupported boolean operator %(op)s: clauses can only be joined by "
                                       "and.", op=op))
        if node.operator.modifiers:
            raise Diagnostic(46, str(node.operator.modifiers[0]),
                             _("Unsupported boolean modifier %(modifier)s.", modifier=node.operator.modifiers[0]))
        _gather(node.left, asked)
        _gather(node.right, asked)
        return
    index = str(node.index or "cql.serverChoice")
    name = _FIELD_OF.get(str(index).lower())
    if name is None:
        raise Diagnostic(16, index, _("Unsupported index %(index)s: search by %(indexes)s.", index=str(index)[:80],
                                      indexes=", ".join(i.names[0] for i in INDEXES.values())))
    relation = (str(node.relation.comparitor) if node.relation else "=").lower()
    if node.relation and node.relation.modifiers:
        raise Diagnostic(20, str(node.relation.modifiers[0]), _(
            "Unsupported relation modifier %(modifier)s.", modifier=str(node.relation.modifiers[0])[:80]))
    term = node.term or ""
    kind = INDEXES[name].kind
    if kind == _ALL:
        return
    if not term.strip():
        raise Diagnostic(27, index, _("Empty term unsupported: say what to search for in %(index)s.", index=index))
    if kind == _TEXT:
        words = _words(term, relation, index)
        if relation == "any" and len(words) > 1:  # at least one of them
            asked.alternatives.append((name, tuple(words)))
        else:
            asked.text.setdefault(name, []).append(" ".join(words))
    elif kind == _IDENT:
        _relation(relation, ("=", "==", "exact", "any"), index)
        if name == "isbn" and str(index).lower() == "dc.identifier" and searchtext.looks_like_issn(term.strip()):
            name = "issn"  # dc.identifier names either
        numbers = term.split() if relation == "any" else [term.strip()]
        if len(numbers) > 1:  # any of several numbers
            asked.alternatives.append((name, tuple(_identifier(n, name, index) for n in numbers)))
            return
        asked.text.setdefault(name, []).append(numbers[0])
        if len(asked.text[name]) > 1 and len(set(asked.text[name])) > 1:
            raise Diagnostic(36, index, _("Two different %(index)s numbers: one record has one.", index=index))
        asked.text[name] = asked.text[name][:1]
    elif kind == _YEAR:
        _year(term, relation, index, asked)
    elif kind == _FLAG:
        _relation(relation, ("=", "=="), index)
        try:  # read as the search reads its own flag
            wanted = search_service._flag_arg({"flag": term}, "flag", index)
        except CatalogError:
            raise Diagnostic(36, term, _("Term in invalid format for %(index)s: 1 or 0, not '%(term)s'.",
                                         index=index, term=term[:40])) from None
        asked.available = asked.available or wanted
    else:
        _relation(relation, _CODE_RELATIONS, index)
        codes = {c.strip().upper() if name == "libraries" else c.strip().lower()
                 for c in (term.split() if relation == "any" else [term]) if c.strip()}
        before = asked.codes.get(name)
        asked.codes[name] = codes if before is None else before & codes


def _identifier(number: str, name: str, index) -> str:
    """An ISBN (as ISBN-13) or ISSN (eight characters), as the index holds it."""
    found = searchtext.isbn13(number) if name == "isbn" else searchtext.issn8(number)
    if not found:
        raise Diagnostic(36, number, _("Term in invalid format for %(index)s: '%(term)s' is not a valid %(kind)s.",
                                       index=index, term=number[:40], kind=name.upper()))
    return found


def _relation(relation: str, allowed: tuple, index) -> None:
    if relation not in allowed:
        raise Diagnostic(19, relation, _("Unsupported relation %(relation)s for %(index)s: use %(relations)s.",
                                         relation=relation, index=index, relations=" ".join(allowed)))


def _words(term: str, relation: str, index) -> list[str]:
    """A term's words as the search box reads them: adj and == one phrase
    (in double quotes), else each word alone (the caller joins them for =
    and all, and takes any one of them for any)."""
    _relation(relation, _WORD_RELATIONS, index)
    words = [w.replace('"', "") for w in term.split()]
    for word in words:
        body = word.rstrip("*")
        if "*" in body or "?" in word:
            raise Diagnostic(28, word, _("Masking character not supported: '*' may only end a word (%(word)s).",
                                         word=word[:80]))
        if "^" in word:
            raise Diagnostic(32, word, _("Anchoring character not supported (%(word)s).", word=word[:80]))
    if relation in ("adj", "==") and len(words) > 1:
        return ['"' + " ".join(words) + '"']
    return words


def _year(term: str, relation: str, index, asked: Asked) -> None:
    _relation(relation, _YEAR_RELATIONS, index)
    parts = term.split()
    if len(parts) != (2 if relation == "within" else 1) or not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise Diagnostic(36, term, _("Term in invalid format for %(index)s: a year is four digits "
                                     "(within takes two: \"2000 2010\"), not '%(term)s'.",
                                     index=index, term=term[:40]))
    years = [int(p) for p in parts]
    low, high = {
        "=": (years[0], years[0]), "==": (years[0], years[0]), "within": (min(years), max(years)),
        "<": (None, years[0] - 1), "<=": (None, years[0]), ">": (years[0] + 1, None), ">=": (years[0], None),
    }[relation]
    if low is not None:
        asked.year_from = low if asked.year_from is None else max(asked.year_from, low)
    if high is not None:
        asked.year_to = high if asked.year_to is None else min(asked.year_to, high)


def _sort(key: str, descending: bool) -> str:
    sorts = _SORTS.get(key.lower())
    if sorts is None:
        raise Diagnostic(88, key, _("Unsupported path for sort %(key)s: sort by dc.date, dc.title or dc.creator.",
                                    key=key[:80]))
    chosen = sorts[1] if descending else sorts[0]
    if chosen is None:
        raise Diagnostic(90, key, _("Unsupported direction: %(key)s sorts ascending only.", key=key[:80]))
    return chosen


def _sort_by(specs) -> str:
    """CQL 1.2's sortBy: one key, sort.ascending (the default) or sort.descending."""
    if len(specs) > 1:
        raise Diagnostic(84, str(len(specs)), _("Too many sort keys: sort by one."))
    modifiers = {str(m.name).lower() for m in (specs[0].modifiers or [])}
    unknown = modifiers - {"sort.ascending", "sort.descending"}
    if unknown:
        raise Diagnostic(80, sorted(unknown)[0], _("Sort not supported with %(modifier)s.",
                                                   modifier=sorted(unknown)[0]))
    return _sort(str(specs[0].index), "sort.descending" in modifiers)


def _sort_keys(value: str) -> str:
    """SRU 1.1/1.2's sortKeys: "path,schema,ascending" (1 or 0), one key."""
    keys = value.split()
    if len(keys) > 1:
        raise Diagnostic(84, value, _("Too many sort keys: sort by one."))
    parts = keys[0].split(",")
    ascending = parts[2] if len(parts) > 2 else "1"
    if ascending not in ("0", "1"):
        raise Diagnostic(6, "sortKeys", _("Unsupported parameter value: in sortKeys, ascending is 1 or 0, not "
                                          "'%(value)s'.", value=ascending[:10]))
    return _sort(parts[0], ascending == "0")


# --- answers ----------------------------------------------------------------------------


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent, prefix: str, tag: str, text=None, **attrs):
    return child(parent, _q(prefix, tag), text, **attrs)


def _xml(root, payloads: dict[str, str] | None = None) -> bytes:
    """The answer's bytes, each record's XML put where its token stands (``_record``)."""
    return document(ET.tostring(root, encoding="unicode"), payloads)


def _own_namespace(body) -> str:
    """A record's XML with its own namespace the default one (no prefix), as
    the Library of Congress's SRU server gives it: a client that looks for an
    unprefixed record (SLiMS, through PHP's SimpleXML) finds no other."""
    if not body.tag.startswith("{"):  # MARCXML (pymarc's), MODS: plain names under an xmlns attribute
        return ET.tostring(body, encoding="unicode")
    return ET.tostring(body, encoding="unicode", default_namespace=body.tag[1:].split("}", 1)[0])


def answer(session, args, base_url: str, host: str, port: int) -> bytes:
    """The XML answer to an SRU request: searchRetrieve, explain, or the
    diagnostic saying why it cannot be either (SRU answers those with 200)."""
    try:
        req = read_request(args)
    except Diagnostic as diag:
        # answered in the kind of response asked for: a client decodes no other
        searching = args.get("operation") == "searchRetrieve" or (
            not args.get("operation") and args.get("query") is not None)
        root = ET.Element(_q("srw", "searchRetrieveResponse" if searching else "explainResponse"))
        _sub(root, "srw", "version", VERSION)
        if searching:
            _sub(root, "srw", "numberOfRecords", 0)
        _diagnostics(root, [diag])
        return _xml(root)
    if req.operation == "explain":
        return explain(base_url, host, port, req.version)
    return search_retrieve(session, req)


def _diagnostics(root, diags) -> None:
    box = _sub(root, "srw", "diagnostics")
    for diag in diags:
        element = _sub(box, "diag", "diagnostic")
        _sub(element, "diag", "uri", f"info:srw/diagnostic/1/{diag.code}")
        _sub(element, "diag", "details", diag.details)
        _sub(element, "diag", "message", diag.message)


def search_retrieve(session, req: Request) -> bytes:
    root = ET.Element(_q("srw", "searchRetrieveResponse"))
    _sub(root, "srw", "version", req.version)
    try:
        query = to_query(req.query, req.sort_keys)
        total, rows = 0, []
        if query is not None:
            # maximumRecords=0 asks for the count alone; the search still lays out one place
            query.per_page = max(req.maximum, 1)
            query.start = req.start - 1
            total, rows = search_service.results(session, query)
        if total and req.start > total:
            raise Diagnostic(61, str(req.start), _(
                "First record position out of range: %(start)d, and the search found %(total)d.",
                start=req.start, total=total))
    except Diagnostic as diag:
        _sub(root, "srw", "numberOfRecords", 0)
        _diagnostics(root, [diag])
        _echo(root, req)
        return _xml(root)
    rows = rows[: req.maximum]
    _sub(root, "srw", "numberOfRecords", total)
    payloads: dict[str, str] = {}
    if rows:
        records = _sub(root, "srw", "records")
        copies = export.copy_records(session, [row["id"] for row in rows])
        for position, row in enumerate(rows, start=req.start):
            if row["id"] in copies:
                _record(records, req, position, row, copies[row["id"]], payloads)
    following = req.start + len(rows)
    if rows and following <= total:
        _sub(root, "srw", "nextRecordPosition", following)
    _echo(root, req)
    return _xml(root, payloads)


def _echo(root, req: Request) -> None:
    echo = _sub(root, "srw", "echoedSearchRetrieveRequest")
    for name, value in req.echoed.items():
        _sub(echo, "srw", name, value)


def _record(records, req: Request, position: int, summary: dict, copy: pymarc.Record,
            payloads: dict[str, str]) -> None:
    record = _sub(records, "srw", "record")
    _sub(record, "srw", "recordSchema", req.schema.identifier)
    _sub(record, "srw", "recordPacking", req.packing)
    data = _sub(record, "srw", "recordData")
    body = (_marcxml(copy) if req.schema.name == "marcxml" else mods.from_marc(copy) if req.schema.name == "mods"
            else _dublin_core(summary, copy))
    if req.packing == "string":  # the record as text, escaped
        data.text = _own_namespace(body)
    else:  # the record as XML, put in by _xml
        token = f"@@sru-record-{position}@@"
        data.text = token
        payloads[token] = _own_namespace(body)
    _sub(record, "srw", "recordPosition", position)
    extra = _sub(record, "srw", "extraRecordData")
    holdings = _sub(extra, "ill", "holdings", unionRecord=summary["id"])
    for held in summary["holdings"]:
        _sub(holdings, "ill", "library", held["library_name"], code=held["library"], items=held["items"],
             available=held["available"])


def _marcxml(record: pymarc.Record):
    return pymarc.record_to_xml_node(record, namespace=True)


def _dublin_core(summary: dict, record: pymarc.Record):
    dc = ET.Element(_q("srw_dc", "dc"))
    dublin_core.describe(dc, summary, record)
    return dc


def explain(base_url: str, host: str, port: int, version: str = VERSION) -> bytes:
    """The explain record (ZeeRex 2.0): where the server is, what may be
    searched and how, and in which schemas records come back."""
    root = ET.Element(_q("srw", "explainResponse"))
    _sub(root, "srw", "version", version)
    record = _sub(root, "srw", "record")
    _sub(record, "srw", "recordSchema", NS["zr"])
    _sub(record, "srw", "recordPacking", "xml")
    data = _sub(record, "srw", "recordData")
    zr = _sub(data, "zr", "explain")
    server = _sub(zr, "zr", "serverInfo", protocol="SRU", version=VERSION, transport="http")
    _sub(server, "zr", "host", host)
    _sub(server, "zr", "port", port)
    _sub(server, "zr", "database", base_url.lstrip("/"))
    info = _sub(zr, "zr", "databaseInfo")
    from flask_babel import force_locale

    for lang in ("en", "id"):
        with force_locale(lang):
            _sub(info, "zr", "title", _("Union catalogue of the library network"), lang=lang,
                 primary="true" if lang == "en" else "false")
            _sub(info, "zr", "description", _(
                "What the network's partner libraries hold, one record per edition, with each library's "
                "copies: for copy cataloguing and interlibrary loan."), lang=lang,
                primary="true" if lang == "en" else "false")
    indexes = _sub(zr, "zr", "indexInfo")
    for name, identifier in (("cql", "info:srw/cql-context-set/1/cql-v1.2"),
                             ("dc", "info:srw/cql-context-set/1/dc-v1.1"),
                             ("bath", "http://zing.z3950.org/cql/bath/2.0/"),
                             ("ill", NS["ill"])):
        _sub(indexes, "zr", "set", name=name, identifier=identifier)
    for index in INDEXES.values():
        element = _sub(indexes, "zr", "index", search="true")
        with force_locale("en"):
            _sub(element, "zr", "title", str(index.title), lang="en")
        for qualified in (n for n in index.names if "." in n):
            set_name, _dot, short = qualified.partition(".")
            mapping = _sub(element, "zr", "map")
            _sub(mapping, "zr", "name", short, set=set_name)
    schemas = _sub(zr, "zr", "schemaInfo")
    for schema in SCHEMAS:
        element = _sub(schemas, "zr", "schema", identifier=schema.identifier, name=schema.name,
                       retrieve="true", sort="false")
        _sub(element, "zr", "title", schema.title, lang="en")
    config = _sub(zr, "zr", "configInfo")
    _sub(config, "zr", "default", DEFAULT_RECORDS, type="numberOfRecords")
    _sub(config, "zr", "setting", MAX_RECORDS, type="maximumRecords")
    _sub(config, "zr", "default", "cql.serverChoice", type="index")
    _sub(config, "zr", "default", "=", type="relation")
    for relation in sorted(set(_WORD_RELATIONS + _YEAR_RELATIONS)):
        _sub(config, "zr", "supports", relation, type="relation")
    _sub(config, "zr", "supports", "and", type="booleanOperator")
    _sub(config, "zr", "supports", "*", type="maskingCharacter")
    _sub(config, "zr", "supports", "", type="sort")
    return _xml(root)
