"""Agreements and partners over HTTP, under /api/v1."""

from __future__ import annotations

from datetime import date

from flask import current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ill import clock
from ill.accounts import current, login_required, require_role
from ill.api import make_blueprint
from ill.errors import BadRequest, Forbidden
from ill.extensions import db
from ill.tables import uploaded_text

from . import calendar, service, traffic
from . import partners as partner_service
from .models import AgreementChange, ClosedDay, Partner
from .status import STATUSES

bp = make_blueprint("agreements_api", __name__)

MANAGERS = ("coordinator", "admin")


def _day_arg(name: str = "as_of") -> date:
    value = request.args.get(name)
    if not value:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _("%(field)s: '%(value)s' is not a date (use YYYY-MM-DD).", field=name, value=value),
            field=name,
        )


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("Send a JSON object in the request body."))
    return data


def _staff():
    user = current()
    if not user.is_staff:
        raise Forbidden(_("Agreements are for library staff."))
    return user


def _visible(agreement, user) -> None:
    if user.role in MANAGERS:
        return
    if user.library_id not in {p.partner_id for p in agreement.parties}:
        raise Forbidden(_("This agreement is not your library's."))


def _actor(user) -> service.Actor:
    return service.Actor(user=user)


@bp.get("/partners")
@login_required
def list_partners():
    today = clock.today()
    rows = db.session.scalars(select(Partner).order_by(Partner.code))
    return jsonify({"partners": [partner_service.to_dict(p, today) for p in rows]})


@bp.get("/partners/<code>")
@login_required
def get_partner(code):
    partner = partner_service.get_by_code(db.session, code)
    return jsonify(partner_service.to_dict_full(partner, clock.today()))


@bp.post("/partners")
def create_partner():
    require_role(*MANAGERS)
    data = _json_body()
    partner, created = partner_service.upsert(db.session, data.get("code", ""), data.get("name", ""))
    if not created:
        db.session.rollback()
        from ill.errors import Conflict

        raise Conflict(_("A partner with the code %(code)s exists already.", code=partner.code))
    db.session.flush()
    rest = {k: v for k, v in data.items() if k not in ("code", "name")}
    partner_service.update(db.session, partner, rest, current())
    db.session.commit()
    return jsonify(partner_service.to_dict_full(partner, clock.today())), 201


@bp.patch("/partners/<code>")
def update_partner(code):
    user = current()
    partner = partner_service.get_by_code(db.session, code)
    changes = partner_service.update(db.session, partner, _json_body(), user)
    db.session.commit()
    return jsonify({**partner_service.to_dict_full(partner, clock.today()), "changes": changes})


# --- calendar ------------------------------------------------------------------


@bp.get("/calendar")
@login_required
def get_calendar():
    """The days the network (and ``library``, if given) is closed, from
    ``from`` (today) to ``to``; with the library, the days of the week it closes."""
    _staff()
    code = request.args.get("library") or ""
    library = partner_service.get_by_code(db.session, code) if code else None
    start = _day_arg("from")
    end = _day_arg("to") if request.args.get("to") else None
    rows = calendar.listing(db.session, library.id if library else None, start, end)
    out = {"library": library.code if library else None, "from": start.isoformat(),
           "to": end.isoformat() if end else None, "days": [calendar.to_dict(c) for c in rows]}
    if library is not None:
        out["closed_weekdays"] = calendar.weekday_names(library.closed_weekdays)
    return jsonify(out)


@bp.post("/calendar")
def add_closed_days():
    """Closes ``library`` (absent or null: the whole network) on ``day``, or
    from ``day`` to ``until``, for ``reason``."""
    user = current()
    data = _json_body()
    code = data.get("library")
    library = partner_service.get_by_code(db.session, str(code)) if code else None
    added, already = calendar.add(db.session, user, service.parse_day(data.get("day"), "day"),
                                  service.parse_day(data.get("until"), "until"),
                                  str(data.get("reason") or ""), library)
    db.session.commit()
    return jsonify({"added": [calendar.to_dict(c) for c in added],
                    "already_closed": [d.isoformat() for d in already]}), 201


@bp.post("/calendar/holidays")
def add_public_holidays():
    """Closes the whole network on Indonesia's public holidays of ``year``."""
    user = current()
    year = _json_body().get("year")
    if isinstance(year, bool) or not isinstance(year, int | str) or not str(year).strip().isdigit():
        raise BadRequest(_("year: give a year such as 2027."), field="year")
    added, already = calendar.add_public_holidays(db.session, user, int(year), str(get_locale() or "id"))
    db.session.commit()
    return jsonify({"added": [calendar.to_dict(c) for c in added],
                    "already_closed": [d.isoformat() for d in already]}), 201


@bp.delete("/calendar/<int:closed_id>")
def remove_closed_day(closed_id):
    user = current()
    closed = db.session.get(ClosedDay, closed_id)
    if closed is None:
        from ill.errors import NotFound

        raise NotFound(_("No closed day %(id)d.", id=closed_id))
    calendar.remove(db.session, user, closed)
    db.session.commit()
    return "", 204


@bp.get("/agreements")
def list_agreements():
    user = _staff()
    day = _day_arg()
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        raise BadRequest(_("status: use one of %(statuses)s.", statuses=", ".join(STATUSES)), field="status")
    within = request.args.get("within_days")
    within_days = None
    if within not in (None, ""):
        within_days = service.parse_int(within, "within_days", 0)
    library_id = None if user.role in MANAGERS else user.library_id
    rows = service.listing(db.session, day, status, within_days, library_id=library_id)
    return jsonify(
        {
            "as_of": day.isoformat(),
            "total": len(rows),
            "agreements": [service.to_dict(a, day, s) for a, s in rows],
        }
    )


@bp.get("/agreements/<int:agreement_id>")
def get_agreement(agreement_id):
    user = _staff()
    agreement = service.get(db.session, agreement_id)
    _visible(agreement, user)
    day = _day_arg()
    body = service.to_dict(agreement, day)
    body["chain"] = [a.id for a in service.chain(db.session, agreement)]
    body["history"] = [_change(c) for c in _history(agreement)]
    body["usage"] = traffic.usage(db.session, agreement, clock.today())
    return jsonify(body)


def _history(agreement):
    return db.session.scalars(
        select(AgreementChange)
        .where(AgreementChange.agreement_id == agreement.id)
        .order_by(AgreementChange.at, AgreementChange.id)
    ).all()


def _change(change: AgreementChange) -> dict:
    return {
        "at": change.at.isoformat(),
        "actor": change.actor,
        "action": change.action,
        "changes": change.changes,
        "note": change.note or None,
    }


@bp.post("/agreements")
def create_agreement():
    user = require_role(*MANAGERS)
    agreement = service.create(db.session, _json_body(), _actor(user))
    db.session.commit()
    return jsonify(service.to_dict(agreement, clock.today())), 201


@bp.patch("/agreements/<int:agreement_id>")
def update_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    data = _json_body()
    version = data.pop("version", None)
    changes = service.update(db.session, agreement, data, _actor(user), version=version)
    db.session.commit()
    return jsonify({**service.to_dict(agreement, clock.today()), "changes": changes})


@bp.post("/agreements/<int:agreement_id>/renew")
def renew_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise BadRequest(_("Send a JSON object in the request body."))
    new = service.renew(db.session, agreement, data, _actor(user))
    db.session.commit()
    return jsonify(service.to_dict(new, clock.today())), 201


@bp.post("/agreements/<int:agreement_id>/terminate")
def terminate_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    data = _json_body()
    service.terminate(db.session, agreement, data.get("terminated_on"), data.get("reason", ""), _actor(user))
    db.session.commit()
    return jsonify(service.to_dict(agreement, clock.today()))


@bp.post("/agreements/<int:agreement_id>/document")
def upload_document(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    upload = request.files.get("file") or request.files.get("document")
    if upload is None:
        raise BadRequest(_("document: send the PDF as the multipart field 'file'."), field="file")
    service.attach_document(
        db.session,
        agreement,
        upload.stream,
        upload.filename or "",
        _actor(user),
        current_app.config["DATA_DIR"],
        int(current_app.config["AGREEMENTS_DOCUMENT_MAX_BYTES"]),
    )
    db.session.commit()
    return jsonify(service.to_dict(agreement, clock.today()))


@bp.post("/agreements/import")
def import_sheet():
    from . import sheets

    user = require_role(*MANAGERS)
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_("file: send the CSV as the multipart field 'file'."), field="file")
    text = uploaded_text(upload.read())
    report = sheets.import_csv(
        db.session,
        text,
        request.form.get("party", ""),
        request.form.getlist("service"),
        _actor(user),
        filename=upload.filename or "spreadsheet.csv",
    )
    db.session.commit()
    return jsonify(
        {
            "created": report.created,
            "partners_created": report.partners_created,
            "skipped": report.skipped,
            "lines": report.lines,
            "problems": report.problems,
        }
    ), 201
