"""The union catalogue's reports for library staff: collection overlap
(``union_catalog.overlap``) and catalogue quality (``union_catalog.quality``),
each a page, spreadsheets of the records behind a figure, and the figures
over the API. Coordinators see the whole network; a librarian their own
library (against every other, for overlap)."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from agreements import partners as partner_service
from ill import clock
from ill.accounts import Role, require_library_staff, require_role
from ill.api import make_blueprint
from ill.errors import BadRequest, NotFound
from ill.extensions import db
from ill.tables import spreadsheet

from . import overlap, quality, search
from .models import FORMATS

bp = Blueprint("catalog_reports", __name__, url_prefix="/catalog", template_folder="templates")
api = make_blueprint("catalog_reports_api", __name__)

STAFF = (Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)


def _format() -> str:
    fmt = (request.args.get("format") or "").strip().lower()
    if fmt and fmt not in FORMATS:
        raise BadRequest(_("Unknown format '%(value)s': give one of %(known)s.", value=fmt,
                           known=", ".join(FORMATS)), field="format")
    return fmt


def _visible(user) -> list[int] | None:
    """Whose rows a user sees: None, every library's."""
    return None if user.role in (Role.COORDINATOR, Role.ADMIN) else [user.library_id]


@bp.get("/overlap/", endpoint="overlap")
def overlap_page():
    user = require_role(*STAFF)
    fmt = _format()
    found = overlap.collection_overlap(db.session, fmt)
    visible = _visible(user)
    rows = [r for r in found.libraries if visible is None or r.partner_id in visible]
    # the library compared with every other: one's own, or the one a coordinator chose
    chosen = request.args.get("library", "").strip().upper()
    focus = next((r for r in rows if r.code == chosen), None) or next(
        (r for r in rows if r.partner_id == user.library_id), None) or (rows[0] if rows else None)
    return render_template("union_catalog/overlap.html", found=found, rows=rows, focus=focus, fmt=fmt,
                           formats=FORMATS, whole_network=visible is None)


@bp.get("/overlap/<code>-last-copies.csv")
def last_copies_csv(code: str):
    partner = partner_service.get_by_code(db.session, code)
    require_library_staff(partner.id)
    fmt = _format()
    base = url_for("catalog.record", record_id=0, _external=True)[:-1]
    rows = [[*row.cells(), f"{base}{row.cluster_id}"] for row in overlap.last_copies(db.session, partner.id, fmt)]
    return spreadsheet([[*overlap.LastCopy.COLUMNS, "url"], *rows],
                       f"{partner.code}-last-copies{'-' + fmt if fmt else ''}.csv")


@api.get("/catalog/overlap")
def overlap_api():
    user = require_role(*STAFF)
    fmt = _format()
    found = overlap.collection_overlap(db.session, fmt, _visible(user))
    return jsonify({
        "format": fmt or None,
        "editions": found.editions,
        "unique": found.unique,
        "libraries": [r.to_dict(found.codes) for r in found.libraries],
    })


@bp.get("/quality/", endpoint="quality")
def quality_page():
    user = require_role(*STAFF)
    visible = _visible(user)
    rows = quality.catalogue_quality(db.session, visible)
    return render_template("union_catalog/quality.html", rows=[r for r in rows if r.records] or rows,
                           checks=quality.CHECKS, whole_network=visible is None,
                           fresh=search.freshness(db.session, clock.today()))


def _check(key: str) -> quality.Check:
    check = quality.CHECK_KEYS.get(key)
    if check is None:
        raise NotFound(_("No check named '%(key)s': the checks are %(known)s.", key=key,
                         known=", ".join(quality.CHECK_KEYS)))
    return check


@bp.get("/quality/<code>/<key>.csv")
def quality_csv(code: str, key: str):
    partner = partner_service.get_by_code(db.session, code)
    require_library_staff(partner.id)
    check = _check(key)
    base = url_for("catalog.record", record_id=0, _external=True)[:-1]
    rows = [[*row.cells(), f"{base}{row.cluster_id}" if row.cluster_id else ""]
            for row in quality.lacking(db.session, partner.id, check)]
    return spreadsheet([[*quality.Lacking.COLUMNS, "url"], *rows],
                       f"{partner.code}-{check.key}.csv")


@api.get("/catalog/quality")
def quality_api():
    user = require_role(*STAFF)
    rows = quality.catalogue_quality(db.session, _visible(user))
    fresh = search.freshness(db.session, clock.today())

    def as_of(pid):
        known = fresh.get(pid)
        return {"as_of": known.as_of.isoformat() if known else None, "stale": bool(known and known.stale)}

    return jsonify({
        "checks": [{"key": c.key, "label": str(c.label), "why": str(c.why)} for c in quality.CHECKS],
        "libraries": [{**r.to_dict(), **as_of(r.partner_id)} for r in rows],
    })


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
