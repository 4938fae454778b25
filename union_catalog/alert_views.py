"""Search alerts (``union_catalog.alerts``) for signed-in users: following a
search from its page, the list of one's alerts, and the same over the API.
Each user sees and stops only their own."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ill.accounts import current, login_required
from ill.api import make_blueprint
from ill.errors import BadRequest
from ill.extensions import db
from ill.security import safe_next

from . import alerts
from .errors import CatalogError

bp = Blueprint("catalog_alerts", __name__, url_prefix="/catalog/alerts", template_folder="templates")
api = make_blueprint("catalog_alerts_api", __name__)


def _args(value) -> MultiDict:
    """A search's fields from a query string or, over the API, an object."""
    if isinstance(value, dict):
        return MultiDict([(k, v) for k, vs in value.items()
                          for v in (vs if isinstance(vs, list) else [vs]) if v is not None])
    if isinstance(value, str):
        return MultiDict(parse_qsl(value))
    raise BadRequest(_("Give the search as a query string or an object of its fields."), field="query")


def _to_dict(alert) -> dict:
    query = alerts.parse(alert.query_string)
    return {
        "id": alert.id,
        "query": alert.query_string,
        "label": alert.label,
        "search_url": url_for("catalog.search", _external=True, **query.args(sort="newest")),
        "created_at": alert.created_at.isoformat(),
        "last_told_at": alert.last_told_at.isoformat() if alert.last_told_at else None,
        "told": alert.told,
    }


@bp.get("/", endpoint="alerts")
@login_required
def alerts_page():
    mine = alerts.of_user(db.session, current())
    return render_template("union_catalog/alerts.html", alerts=mine,
                           search_args={a.id: alerts.parse(a.query_string).args(sort="newest") for a in mine},
                           limit=alerts.MAX_PER_USER)


@bp.post("/")
@login_required
def follow():
    back = safe_next(request.form.get("next")) or url_for("catalog_alerts.alerts")
    try:
        alert, made = alerts.create(db.session, current(), _args(request.form.get("query", "")))
    except CatalogError as exc:
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if made:
        flash(_("Done: you will be told of the union records new to the network that this search finds."),
              "success")
    else:
        flash(_("You follow this search already."), "info")
    return redirect(back)


@bp.post("/<int:alert_id>/delete")
@login_required
def stop(alert_id: int):
    alerts.delete(db.session, current(), alert_id)
    db.session.commit()
    flash(_("You no longer follow that search."), "success")
    return redirect(url_for("catalog_alerts.alerts"))


@api.get("/search-alerts")
@login_required
def list_api():
    return jsonify({"alerts": [_to_dict(a) for a in alerts.of_user(db.session, current())]})


@api.post("/search-alerts")
@login_required
def follow_api():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "query" not in body:
        raise BadRequest(_("Send a JSON object with the search to follow in \"query\"."), field="query")
    alert, made = alerts.create(db.session, current(), _args(body["query"]))
    db.session.commit()
    return jsonify(_to_dict(alert)), 201 if made else 200


@api.delete("/search-alerts/<int:alert_id>")
@login_required
def stop_api(alert_id: int):
    alerts.delete(db.session, current(), alert_id)
    db.session.commit()
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
