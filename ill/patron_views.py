"""A borrowing library's patrons: their standing for interlibrary loan and
suspensions, as pages (under /patrons) and the API (/api/v1/patrons). The
rules are in ``ill.patrons``."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import clock, paging, patrons
from . import requests_service as service
from .accounts import Role, current, roles_required
from .api import make_blueprint
from .errors import ServiceError
from .extensions import db

bp = Blueprint("patrons", __name__, url_prefix="/patrons")
api = make_blueprint("patrons_api", __name__)

STAFF = (Role.LIBRARIAN, Role.ADMIN)


# --- pages -------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF)
def index():
    user = current()
    q = (request.args.get("q") or "").strip()
    try:
        found = patrons.standing_page(db.session, user, q=q, page=request.args.get("page") or 1,
                                      per_page=patrons.PER_PAGE)
    except ServiceError as exc:
        flash(exc.message, "error")
        found, q = patrons.standing_page(db.session, user), ""
    return render_template("patrons/index.html", rows=found.rows, found=found, q=q)


@bp.route("/<int:patron_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def detail(patron_id: int):
    user = current()
    patron = patrons.get_patron(db.session, user, patron_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "card":
                from . import people

                people.update(db.session, user, patron, {"card_number": request.form.get("card_number", "")})
                message = _("Card number saved.")
            elif request.form.get("action") == "lift":
                lifted = patrons.lift(db.session, user, patron_id)
                message = _("Suspension lifted.") if lifted else _("No suspension was in force.")
            else:
                patrons.suspend(db.session, user, patron_id, request.form.get("until"),
                                request.form.get("reason", ""))
                message = _("Requests suspended.")
            db.session.commit()
        except ServiceError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            error, status = exc, exc.status
        else:
            flash(message, "success")
            return redirect(url_for("patrons.detail", patron_id=patron_id), code=303)
    (row,) = patrons.standing(db.session, user, patron_id=patron.id)
    requests = service.queue(db.session, patron)
    from . import people

    return render_template("patrons/detail.html", patron=patron, row=row, requests=requests,
                           account_history=people.history(db.session, patron),
                           account_labels=people.ACTION_LABELS,
                           history=patrons.history(db.session, patron.id), error=error,
                           form=request.form if error else None, today=clock.today(),
                           reason_max=patrons.REASON_MAX), status


# --- API ---------------------------------------------------------------------------


@api.get("/patrons")
@roles_required(*STAFF)
def list_api():
    args = request.args
    found = patrons.standing_page(db.session, current(), q=args.get("q"), page=args.get("page", 1),
                                  per_page=args.get("per_page", paging.MAX_PER_PAGE))
    return jsonify({"patrons": found.rows, **found.to_dict()})


@api.get("/patrons/<int:patron_id>")
@roles_required(*STAFF)
def get_api(patron_id: int):
    user = current()
    patron = patrons.get_patron(db.session, user, patron_id)
    (row,) = patrons.standing(db.session, user, patron_id=patron.id)
    return jsonify(row)


@api.put("/patrons/<int:patron_id>/suspension")
@roles_required(*STAFF)
def suspend_api(patron_id: int):
    user = current()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = {}
    patrons.suspend(db.session, user, patron_id, data.get("until"), data.get("reason", ""))
    db.session.commit()
    (row,) = patrons.standing(db.session, user, patron_id=patron_id)
    return jsonify(row)


@api.delete("/patrons/<int:patron_id>/suspension")
@roles_required(*STAFF)
def lift_api(patron_id: int):
    user = current()
    patrons.lift(db.session, user, patron_id)
    db.session.commit()
    (row,) = patrons.standing(db.session, user, patron_id=patron_id)
    return jsonify(row)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
