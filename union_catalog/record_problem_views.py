"""Reporting a problem with a union record (``union_catalog.record_problems``):
the record page's form, the list of reports (a coordinator's worklist, or
one's own), closing one with an answer, and the same over the API."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ill.accounts import current, login_required
from ill.api import make_blueprint
from ill.errors import ServiceError
from ill.extensions import db

from . import record_problems

bp = Blueprint("catalog_problems", __name__, url_prefix="/catalog", template_folder="templates")
api = make_blueprint("catalog_problems_api", __name__)


def _record_arg() -> int | None:
    value = request.args.get("record", "").strip()
    return int(value) if value.isdigit() else None


@bp.get("/problems/", endpoint="problems")
@login_required
def problems_page():
    user = current()
    status = request.args.get("status", "open")
    record = _record_arg()
    rows = record_problems.visible(db.session, user, status, record)
    return render_template("union_catalog/problems.html", rows=rows, status=status, record=record,
                           kinds=record_problems.KINDS, decides=user.role in record_problems.DECIDERS)


@bp.post("/records/<int:record_id>/problems")
@login_required
def report_form(record_id: int):
    try:
        problem = record_problems.report(db.session, current(), record_id, request.form.get("kind", ""),
                                         request.form.get("note", ""), request.form.get("other_record"))
    except ServiceError as exc:  # said on the record page, and nothing kept
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("catalog.record", record_id=record_id, _anchor="report-problem"))
    db.session.commit()
    flash(_("Thank you: the network's coordinators will look at it, and you will hear their answer."), "success")
    return redirect(url_for("catalog.record", record_id=problem.cluster_id))


@bp.post("/problems/<int:problem_id>/close")
@login_required
def close_form(problem_id: int):
    record_problems.close(db.session, current(), problem_id, request.form.get("answer", ""))
    db.session.commit()
    flash(_("Closed; the reporter is told your answer."), "success")
    return redirect(url_for("catalog_problems.problems", record=request.form.get("record") or None,
                            status="open"))


@api.post("/records/<int:record_id>/problems")
@login_required
def report_api(record_id: int):
    body = request.get_json(silent=True) or {}
    problem = record_problems.report(db.session, current(), record_id, body.get("kind", ""),
                                     body.get("note", ""), body.get("other_record"))
    db.session.commit()
    return jsonify(record_problems.to_dict(problem)), 201


@api.get("/record-problems")
@login_required
def list_api():
    rows = record_problems.visible(db.session, current(), request.args.get("status", "open"), _record_arg())
    return jsonify({"problems": [record_problems.to_dict(p) for p in rows]})


@api.post("/record-problems/<int:problem_id>/close")
@login_required
def close_api(problem_id: int):
    body = request.get_json(silent=True) or {}
    problem = record_problems.close(db.session, current(), problem_id, body.get("answer", ""))
    db.session.commit()
    return jsonify(record_problems.to_dict(problem))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.jinja_env.globals.update(record_problem_kinds=record_problems.KINDS,
                                 record_problem_note_max=record_problems.NOTE_MAX,
                                 open_record_problems=_open_for_deciders)


def _open_for_deciders(cluster_id: int) -> int:
    """For the record page: how many reports on it await an answer, told
    to those who answer them (none for anyone else)."""
    from flask_login import current_user

    if not current_user.is_authenticated or current_user.role not in record_problems.DECIDERS:
        return 0
    return record_problems.open_count(db.session, cluster_id)
