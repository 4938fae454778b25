"""The in-app list of notices and the notification preferences, as pages and
under /api/v1/notices."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import notify
from .accounts import current, login_required
from .api import make_blueprint
from .errors import NotFound
from .extensions import db

bp = Blueprint("notices", __name__, url_prefix="/notices")
api = make_blueprint("notices_api", __name__)


@bp.get("/")
@login_required
def inbox():
    user = current()
    return render_template("notices/inbox.html", notices=notify.inbox(db.session, user),
                           unread=notify.unread_count(db.session, user))


@bp.post("/<int:notice_id>/read")
@login_required
def read(notice_id: int):
    user = current()
    if not notify.mark_read(db.session, user, notice_id) and not _own(user, notice_id):
        raise NotFound(_("No notice %(id)s of yours.", id=notice_id))
    db.session.commit()
    return redirect(url_for("notices.inbox"))


@bp.post("/read-all")
@login_required
def read_all():
    n = notify.mark_read(db.session, current())
    db.session.commit()
    flash(_("%(n)d notice(s) marked as read.", n=n), "success")
    return redirect(url_for("notices.inbox"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    user = current()
    kinds = notify.kinds_for(user)
    if request.method == "POST":
        for name, kind in kinds:
            if kind.must_know:
                continue
            notify.set_preference(db.session, user, name,
                                  mail=request.form.get(f"{name}.mail") == "on",
                                  in_app=request.form.get(f"{name}.in_app") == "on")
        user.mail_digest = request.form.get("digest") == "on"
        db.session.commit()
        flash(_("Your notification choices are saved."), "success")
        return redirect(url_for("notices.preferences"))
    return render_template("notices/preferences.html", kinds=kinds,
                           prefs=notify.preferences(db.session, user))


def _own(user, notice_id: int) -> bool:
    notice = db.session.get(notify.Notice, notice_id)
    return notice is not None and notice.user_id == user.id


def _notice_json(n: notify.Notice) -> dict:
    return {"id": n.id, "kind": n.kind, "subject": n.subject, "body": n.body, "link": n.link,
            "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


@api.get("/notices")
def api_inbox():
    user = current()
    return jsonify({"unread": notify.unread_count(db.session, user),
                    "notices": [_notice_json(n) for n in notify.inbox(db.session, user)]})


@api.post("/notices/<int:notice_id>/read")
def api_read(notice_id: int):
    user = current()
    if not notify.mark_read(db.session, user, notice_id) and not _own(user, notice_id):
        raise NotFound(_("No notice %(id)s of yours.", id=notice_id))
    db.session.commit()
    return jsonify({"id": notice_id, "read": True})


@api.get("/notices/preferences")
def api_preferences():
    user = current()
    prefs = notify.preferences(db.session, user)
    return jsonify({"digest": user.mail_digest, "preferences": [
        {"kind": name, "label": str(kind.label), "must_know": kind.must_know,
         "mail": prefs[name][0], "in_app": prefs[name][1]}
        for name, kind in notify.kinds_for(user)]})


@api.put("/notices/preferences")
def api_set_preferences():
    from .errors import BadRequest

    user = current()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("preferences", []), list) \
            or not ("preferences" in body or "digest" in body):
        raise BadRequest(_('Send {"digest": true|false, "preferences": [{"kind", "mail", "in_app"}, ...]}.'),
                         field="preferences")
    if "digest" in body:
        if not isinstance(body["digest"], bool):
            raise BadRequest(_("'digest' must be true or false."), field="digest")
        user.mail_digest = body["digest"]
    for item in body.get("preferences", []):
        if not isinstance(item, dict):
            raise BadRequest(_("Each preference is an object with kind, mail and in_app."),
                             field="preferences")
        notify.set_preference(db.session, user, str(item.get("kind")),
                              mail=bool(item.get("mail", True)),
                              in_app=bool(item.get("in_app", True)))
    db.session.commit()
    return api_preferences()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
