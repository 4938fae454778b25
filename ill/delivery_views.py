"""Pages and API of document delivery: the copy's page (declaration, status,
the lender's upload form), the download, and the same under /api/v1."""
from __future__ import annotations

import io

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from . import delivery
from .accounts import client_address, current, login_required
from .api import make_blueprint
from .errors import NotFound
from .extensions import db

bp = Blueprint("delivery", __name__, url_prefix="/delivery")
api = make_blueprint("delivery_api", __name__)


def _request_or_404(user, request_id: int):
    from .models import LoanRequest

    req = db.session.get(LoanRequest, request_id)
    if req is None or not delivery._visible(user, req):
        raise NotFound(_("No request %(id)s that you may see.", id=request_id))
    return req


def _attachment(data: bytes, request_id: int):
    resp = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"copy-{request_id}.pdf", max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _download(request_id: int):
    data, copy = delivery.download(db.session, current(), request_id, client_address())
    db.session.commit()  # the download is recorded, or the ended access is
    if data is None:
        raise delivery.Gone(delivery.gone_message(copy))
    return _attachment(data, request_id)


@bp.get("/<int:request_id>")
@login_required
def copy_page(request_id: int):
    user = current()
    req = _request_or_404(user, request_id)
    return render_template("delivery/copy.html", req=req, **panel(user, req))


@bp.get("/<int:request_id>/copy")
@login_required
def download(request_id: int):
    return _download(request_id)


@bp.post("/<int:request_id>/upload")
@login_required
def upload(request_id: int):
    from . import requests_service

    user = current()
    _request_or_404(user, request_id)
    params = {"file": request.files.get("file"), "note": request.form.get("note", "")}
    requests_service.act(db.session, user, request_id, "copy_completed", params,
                         request.form.get("version"))
    db.session.commit()
    flash(_("The copy has been sent; the patron has been told."), "success")
    return redirect(url_for("delivery.copy_page", request_id=request_id))


def panel(user, req) -> dict:
    """What the request's pages show about delivery (also for an include in
    the loan pages: ``{% include "delivery/_panel.html" %}`` with these names)."""
    from . import workflow
    from .requests_service import roles_for

    copy = delivery.copy_for(db.session, req.id)
    staff = user.role != "patron"
    can_upload = req.service == "copy" and "copy_completed" in workflow.allowed_actions(
        req, roles_for(user, req))
    return {
        "copy": copy,
        "declaration": delivery.declaration_for(db.session, req.id),
        "may_download": delivery.may_download(user, req),
        "can_upload": can_upload,
        "downloads": delivery.downloads_of(db.session, copy) if copy and staff else [],
        "gone_message": delivery.gone_message(copy) if copy and copy.deleted_at else "",
        "max_mb": delivery._megabytes(int(request_config("DELIVERY_MAX_BYTES"))),
    }


def request_config(name: str):
    from flask import current_app

    return current_app.config[name]


def info(user, req) -> dict:
    copy = delivery.copy_for(db.session, req.id)
    decl = delivery.declaration_for(db.session, req.id)
    out = {"request_id": req.id, "service": req.service, "copy": None, "declaration": None}
    if decl is not None:
        out["declaration"] = {"text": decl.text, "locale": decl.locale,
                              "declared_at": decl.declared_at.isoformat()}
    if copy is not None:
        out["copy"] = {
            "pages": copy.pages, "size": copy.size_bytes,
            "cost_per_page": str(copy.cost_per_page) if copy.cost_per_page is not None else None,
            "cost": str(copy.cost) if copy.cost is not None else None,
            "available": copy.available, "available_until": copy.available_until.isoformat(),
            "downloads": copy.downloads, "max_downloads": copy.max_downloads,
            "deleted_at": copy.deleted_at.isoformat() if copy.deleted_at else None,
            "deleted_reason": copy.deleted_reason or None,
            "message": delivery.gone_message(copy) if copy.deleted_at else None,
            "url": url_for("delivery_api.api_copy", request_id=req.id)
            if delivery.may_download(user, req) and copy.available else None,
        }
    return out


@api.get("/requests/<int:request_id>/copy")
def api_copy(request_id: int):
    return _download(request_id)


@api.get("/requests/<int:request_id>/delivery")
def api_info(request_id: int):
    user = current()
    return jsonify(info(user, _request_or_404(user, request_id)))


def render_panel(req):
    """The delivery part of a request's page, for ``{{ delivery_panel(req) }}``."""
    from markupsafe import Markup

    user = current()
    if req.service != "copy" and delivery.copy_for(db.session, req.id) is None:
        return Markup("")
    facts = panel(user, req)
    facts["can_upload"] = False  # the request page has its own form for copy_completed
    return Markup(render_template("delivery/_panel.html", req=req, **facts))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["delivery_panel"] = render_panel
    app.register_blueprint(bp)
    app.register_blueprint(api)
