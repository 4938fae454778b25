"""The union catalogue over HTTP, under /api/v1: search and union records.
Public like the pages; requestability is answered for the caller's library."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ill import clock
from ill.api import make_blueprint
from ill.extensions import db

from . import citation, export, headings
from . import search as search_service

bp = make_blueprint("catalog_api", __name__)


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/search")
def search():
    query = search_service.parse_query(request.args)
    page = search_service.search(db.session, query, _user(), clock.today())
    # One URL built, the others made from it: url_for costs as much as a row.
    if page.results:
        base = url_for("catalog_api.record", record_id=0)[: -len("0")]
        for row in page.results:
            row["url"] = f"{base}{row['id']}"
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "sort": page.query.sort,
            "results": page.results,
            "facets": page.facets,
            **({"did_you_mean": page.suggestion} if page.suggestion else {}),
            **({"also_spelled": page.also_spelled} if page.also_spelled else {}),
        }
    )


@bp.get("/search/citations")
def search_citations():
    """The results of a search (the page asked for, as ``/search`` gives
    it) as one citation file: ``as`` ris (the default) or bibtex (not
    ``format``, which is the search's filter by format)."""
    fmt = citation.check_format((request.args.get("as") or "ris").lower(), "as")
    query = search_service.parse_query(request.args)
    _total, rows = search_service.results(db.session, query)
    base = url_for("catalog.record", record_id=0, _external=True)[: -len("0")]
    cites = citation.of_many(db.session, [row["id"] for row in rows], lambda cid: f"{base}{cid}")
    text, mimetype, extension = citation.render_many(cites, fmt)
    return Response(text, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="search-results.{extension}"'})


@bp.get("/browse/<kind>")
def browse(kind: str):
    """A page of author or subject headings in filing order, from where
    ``from`` files (or back from ``before``), each with its union records'
    count and the search that lists them."""
    page = headings.browse(db.session, kind, (request.args.get("from") or "")[:500],
                           before=request.args.get("before", type=lambda v: v[:500]),
                           per_page=search_service._int_arg(request.args, "per_page", _l("Headings per page"),
                                                            1, headings.MAX_PER_PAGE) or headings.PER_PAGE)
    base = url_for("catalog_api.search")
    return jsonify({
        "kind": page.kind,
        "from": page.start,
        "headings": [{"heading": h.heading, "filing": h.filing, "records": h.records,
                      "search": f"{base}?{urlencode({headings.FILTERS[page.kind]: h.heading})}"}
                     for h in page.headings],
        "next": page.next,
        "previous": page.previous,
    })


@bp.get("/records/<int:record_id>")
def record(record_id: int):
    moved = search_service.current_id(db.session, record_id)
    if moved is not None and moved != record_id:  # merged: old links follow it
        return redirect(url_for("catalog_api.record", record_id=moved), 301)
    return jsonify(search_service.record(db.session, record_id, _user(), clock.today()))


@bp.get("/records/<int:record_id>/marc")
def record_marc(record_id: int):
    """The union record's records (or ``member``'s) as a MARC file: ``format``
    marcxml (the default), iso2709 or json; for copy cataloguing."""
    moved = search_service.current_id(db.session, record_id)
    if moved is not None and moved != record_id:
        return redirect(url_for("catalog_api.record_marc", record_id=moved, **request.args), 301)
    member = search_service._int_arg(request.args, "member", _l("Member record"), 1, 2**31 - 1)
    found = export.marc_file(db.session, record_id, _user(), (request.args.get("format") or "marcxml").lower(),
                             member)
    return Response(found.data, mimetype=found.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})


@bp.get("/records/<int:record_id>/citation")
def record_citation(record_id: int):
    """The union record as a citation for a reference manager: ``format``
    ris (the default) or bibtex."""
    moved = search_service.current_id(db.session, record_id)
    if moved is not None and moved != record_id:
        return redirect(url_for("catalog_api.record_citation", record_id=moved, **request.args), 301)
    fmt = citation.check_format((request.args.get("format") or "ris").lower())
    cite = citation.of(db.session, record_id, _user(),
                       url=url_for("catalog.record", record_id=record_id, _external=True))
    text, mimetype, extension = citation.render(cite, fmt)
    return Response(text, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="record-{record_id}.{extension}"'})


def init_app(app) -> None:
    app.register_blueprint(bp)
