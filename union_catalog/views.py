"""Pages of the union catalogue for people: search and the union record.
Both are public, like a library's OPAC; whether a title can be requested is
worked out for the signed-in user's library (and not at all for a visitor)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ill import clock
from ill.extensions import db

from . import alerts, citation, feeds, headings, oai, sru
from . import search as search_service
from .errors import CatalogError
from .models import FORMATS

bp = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")
FEED_ENTRIES = 20  # union records in a search's Atom feed

LANGUAGES = {
    "ind": _l("Indonesian"),
    "eng": _l("English"),
    "ara": _l("Arabic"),
    "may": _l("Malay"),
    "msa": _l("Malay"),
    "jav": _l("Javanese"),
    "sun": _l("Sundanese"),
    "dut": _l("Dutch"),
    "nld": _l("Dutch"),
    "fre": _l("French"),
    "ger": _l("German"),
    "chi": _l("Chinese"),
    "jpn": _l("Japanese"),
    "per": _l("Persian"),
    "urd": _l("Urdu"),
    "tur": _l("Turkish"),
    "und": _l("undetermined"),
}
STATUSES = {
    "available": _l("available"),
    "on_loan": _l("on loan"),
    "not_for_loan": _l("not for loan"),
    "lost": _l("lost"),
    "damaged": _l("damaged"),
    "unknown": _l("status unknown"),
}


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _labels() -> dict:
    return {
        "language_label": lambda code: str(LANGUAGES.get(code, code)),
        "format_label": lambda code: str(FORMATS.get(code, code)),
        "status_label": lambda code: str(STATUSES.get(code, code)),
    }


@bp.get("/")
@bp.get("/search")
def search():
    error = None
    page = None
    try:
        query = search_service.parse_query(request.args)
    except CatalogError as exc:
        error, query = exc, search_service.Query(q=(request.args.get("q") or "")[:500])
    if error is None and not query.empty:
        try:
            page = search_service.search(db.session, query, _user(), clock.today())
        except CatalogError as exc:
            error = exc
    status = 400 if error else 200
    return render_template(
        "catalog/search.html",
        query=query,
        page=page,
        error=error,
        partner_names=_partner_names(),
        sorts=search_service.SORT_LABELS,
        alert_query=alerts.canonical(query) if page is not None else None,
        **_labels(),
    ), status


@bp.get("/browse")
def browse():
    """The authors' names or the subjects of the catalogue in filing order
    (``kind``), from where ``from`` files or back from ``before``; each
    heading leads to the search for the union records under it."""
    kind = (request.args.get("kind") or "author").strip().lower()
    typed = (request.args.get("from") or "").strip()[:500]
    error, page = None, None
    try:
        page = headings.browse(db.session, kind, typed, before=request.args.get("before", type=lambda v: v[:500]))
    except CatalogError as exc:
        error, kind = exc, "author"
    return render_template("catalog/browse.html", page=page, kind=kind, typed=typed, error=error,
                           kinds=headings.KIND_LABELS, filters=headings.FILTERS), 400 if error else 200


@bp.get("/search.atom")
def search_feed():
    """A search as an Atom feed, newest union records first: subscribed to
    in a feed reader, it tells of the editions the network gains that the
    search finds (a subject, an author, a library's)."""
    query = search_service.parse_query(request.args)  # CatalogError: 400 naming the field
    query.sort, query.page, query.per_page = "newest", 1, FEED_ENTRIES
    _total, rows = search_service.results(db.session, query)
    body = feeds.atom(db.session, rows, query,
                      self_url=request.url,
                      page_url=url_for("catalog.search", _external=True, **query.args(sort="newest")),
                      record_url=lambda cid: url_for("catalog.record", record_id=cid, _external=True))
    return Response(body, mimetype="application/atom+xml")


@bp.get("/isbn/<path:number>", defaults={"kind": "isbn"})
@bp.get("/issn/<path:number>", defaults={"kind": "issn"})
def by_identifier(number: str, kind: str):
    """A link by ISBN or ISSN (from a reading list, another catalogue, a
    partner's OPAC): to the one union record with that number, else to the
    search for it, which says what it found or what is wrong with the number."""
    try:  # the hits alone: no page of results is shown here
        total, ids, _facets = search_service.Searcher(db.session, search_service.parse_query({kind: number})).run()
    except CatalogError:
        total, ids = 0, []
    if total == 1 and ids:
        return redirect(url_for("catalog.record", record_id=ids[0]))
    return redirect(url_for("catalog.search", **{kind: number}))


@bp.get("/opensearch.xml")
def opensearch():
    """An OpenSearch description, so that a browser can add the union
    catalogue to its search engines (the pages link it from their head)."""
    from xml.sax.saxutils import escape, quoteattr

    template = url_for("catalog.search", _external=True) + "?q={searchTerms}"
    name = escape(str(_("Union catalogue"))[:16])
    description = escape(_("Search the union catalogue of the network"))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">\n'
            f"  <ShortName>{name}</ShortName>\n"
            f"  <Description>{description}</Description>\n"
            "  <InputEncoding>UTF-8</InputEncoding>\n"
            f'  <Url type="text/html" method="get" template={quoteattr(template)}/>\n'
            "</OpenSearchDescription>\n")
    return Response(body, mimetype="application/opensearchdescription+xml")


@bp.get("/sru")
def sru_server():
    """The union catalogue as an SRU 1.2 server (``union_catalog.sru``), for
    other library systems' copy cataloguing: searchRetrieve in CQL, records
    in MARCXML or Dublin Core, and explain. Public, like the search page."""
    body = sru.answer(db.session, request.args, request.path,
                              request.host.split(":")[0], request.host.partition(":")[2] or
                              (443 if request.scheme == "https" else 80))
    return Response(body, mimetype="text/xml", headers={"Content-Type": "text/xml; charset=utf-8"})


@bp.route("/oai", methods=["GET", "POST"])
def oai_provider():
    """The union catalogue as an OAI-PMH 2.0 data provider (``union_catalog.oai``),
    for aggregators to harvest (Indonesia OneSearch and others). Public, like
    the search page; POST is the protocol's, with the arguments as a form."""
    body = oai.answer(db.session, request.values, url_for("catalog.oai_provider", _external=True),
                      request.host.split(":")[0])
    return Response(body, mimetype="text/xml", headers={"Content-Type": "text/xml; charset=utf-8"})


def _partner_names() -> dict[str, str]:
    return {p["code"]: p["name"] for p in search_service._partners(db.session).values()}


@bp.get("/records/<int:record_id>")
def record(record_id: int):
    moved = search_service.current_id(db.session, record_id)
    if moved is not None and moved != record_id:  # merged: old links follow it
        return redirect(url_for("catalog.record", record_id=moved), 301)
    user = _user()
    rec = search_service.record(db.session, record_id, user, clock.today())
    marc = search_service.member_marc(db.session, [m["id"] for m in rec["members"]])
    staff = search_service.is_staff(user)
    marc_views = {m["id"]: search_service.marc_lines(marc.get(m["id"]), staff) for m in rec["members"]}
    cite = citation.from_record(rec, marc)
    return render_template(
        "catalog/record.html",
        rec=rec,
        marc_views=marc_views,
        staff=staff,
        citation_tags=citation.meta_tags(cite),
        **_labels(),
    )


def init_app(app) -> None:
    from ill.extensions import csrf

    csrf.exempt(oai_provider)  # harvesters POST without a session: there is nothing to forge
    app.register_blueprint(bp)
