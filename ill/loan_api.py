"""Loan and copy requests over HTTP, under /api/v1 (see docs/loans.md)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from . import clock, paging, pickup
from . import requests_service as service
from .accounts import Role, current, login_required, roles_required
from .api import make_blueprint
from .errors import BadRequest
from .extensions import db

bp = make_blueprint("loans_api", __name__)


def _body() -> dict:
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest(_("The body is not a JSON object."))
        return data
    # Forms and multipart (a file for copy_completed): fields as strings.
    data = {k: v for k, v in request.form.items()}
    if request.files:
        data["files"] = request.files
    return data


@bp.post("/requests")
@login_required
def create_request():
    user = current()
    req = service.create(db.session, user, _body())
    db.session.commit()
    return jsonify(service.to_dict(req, user)), 201


@bp.get("/requests")
@login_required
def list_requests():
    user = current()
    args = request.args
    found = service.queue_page(db.session, user, args.get("side"), args.get("status"), args.get("q"),
                               args.get("page", 1), args.get("per_page", paging.MAX_PER_PAGE))
    return jsonify({"requests": [service.to_dict(r, user) for r in found.rows], **found.to_dict(),
                    "counts": service.queue_counts(db.session, user)})


@bp.get("/requests/<int:request_id>")
@login_required
def get_request(request_id: int):
    from . import iso18626

    user = current()
    req = service.get_visible(db.session, user, request_id)
    out = service.to_dict(req, user)
    if user.role != Role.PATRON:  # the libraries' messages with another library's own system
        out["iso18626"] = [iso18626.to_dict(m) for m in iso18626.messages_of(db.session, req.id)]
    return jsonify(out)


@bp.post("/requests/<int:request_id>/actions")
@login_required
def request_action(request_id: int):
    user = current()
    data = _body()
    action = str(data.get("action") or "").strip()
    if not action:
        raise BadRequest(_("Name the action ('action')."), field="action")
    event = service.act(db.session, user, request_id, action, data, data.get("version"))
    req = event.request
    db.session.commit()
    return jsonify(service.to_dict(req, user))


@bp.get("/pull-list")
@roles_required(Role.LIBRARIAN)
def pull_list():
    """The lending library's requests still to fetch, in shelf order (as the printable page)."""
    user = current()
    rows = service.pull_list(db.session, user)
    return jsonify({
        "library": user.library.code,
        "requests": [
            {"id": req.id, "status": req.status, "service": req.service, "title": req.title,
             "record_id": req.cluster_id, "citation": req.citation or {},
             "borrower": req.requester_library.code if req.requester_library else None,
             "needed_by": clock.iso(req.needed_by),
             "answer_due": clock.iso(req.answer_due),
             "copies": [{"barcode": i.barcode, "call_number": i.call_number, "location": i.location,
                         "status": i.status, "coverage": i.coverage or None} for i in items]}
            for req, items in rows
        ],
    })


@bp.get("/hold-shelf")
@roles_required(Role.LIBRARIAN)
def hold_shelf():
    """The borrowing library's books waiting for their patrons (as the printable page);
    ``q``: one patron's, by their library card number, or part of their name or e-mail."""
    user = current()
    q = (request.args.get("q") or "").strip()
    return jsonify({
        "library": user.library.code,
        "requests": [
            {"id": w.request.id, "title": w.request.title,
             "patron": {"id": w.request.patron.id, "name": w.request.patron.name} if w.request.patron else None,
             "lender": w.request.current_lender.code if w.request.current_lender else None,
             "received_on": clock.iso(w.received_on), "kept_until": clock.iso(w.kept_until),
             "expired": w.expired,
             "due_date": clock.iso(w.request.due_date)}
            for w in pickup.hold_shelf(db.session, user.library_id, clock.today(), q=q)
        ],
    })


@bp.post("/iso18626")
@login_required
def iso18626_message():
    """An ISO 18626 message from a library's own system (a lender's or a
    borrower's), with one of its librarians' tokens (ill/iso18626.py);
    answered with an ISO 18626 confirmation."""
    from flask import Response

    from . import iso18626

    answer = iso18626.receive(db.session, current(), request.get_data())
    db.session.commit()
    return Response(answer.body, status=answer.status, mimetype="application/xml")


@bp.get("/register")
@roles_required(Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)
def register_rows():
    """A library's register: ``side`` borrowing or lending, ``since``, ``until``, ``library`` (coordinators)."""
    from . import register

    library, side, since, until, found = register.read(db.session, current(), request.args)
    return jsonify({"library": library.code, "side": side, "since": since.isoformat(), "until": until.isoformat(),
                    "rows": [register.to_dict(r, side) for r in found]})
