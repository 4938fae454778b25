"""Pages for the partner directory and agreements."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from ill import clock
from ill.accounts import current, login_required, require_role
from ill.config import setting
from ill.errors import BadRequest, Forbidden, ServiceError
from ill.extensions import db
from ill.tables import uploaded_text
from ill.ui import format_day

from . import calendar, labels, service
from . import partners as partner_service
from . import status as st
from . import traffic as traffic_mod
from .models import (
    COOPERATION_FORMS,
    AgreementChange,
    ClosedDay,
    LibrarySystem,
    Partner,
    PartnerChange,
    Service,
)

bp = Blueprint("agreements", __name__, template_folder="templates")

MANAGERS = ("coordinator", "admin")


@bp.app_context_processor
def _labels():
    return {
        "ag_status_label": lambda s: str(labels.STATUS_LABELS.get(s, s)),
        "ag_form_label": lambda f: str(labels.FORM_LABELS.get(f, f)),
        "ag_service_label": lambda s: str(labels.SERVICE_LABELS.get(s, s)),
        "ag_field_label": lambda f: str(labels.FIELD_LABELS.get(f, f)),
        "ag_action_label": lambda a: str(labels.ACTION_LABELS.get(a, a)),
        "ag_system_label": lambda s: str(labels.SYSTEM_LABELS.get(s, s)),
        "ag_weekday_label": labels.weekday_label,
        "ag_weekdays": calendar.WEEKDAYS,
        "ag_closed_weekdays": lambda stored: [labels.weekday_label(d) for d in calendar.weekday_names(stored)],
        "ag_agreement_title": service.display_title,
        "ag_change_value": _change_value,
    }


def _change_value(value) -> str:
    """A before or after value of the history, for people."""
    if value in (None, "", [], {}):
        return "–"
    if isinstance(value, list):
        return ", ".join(labels.weekday_label(v) if v in calendar.WEEKDAYS else str(labels.FORM_LABELS.get(v, v))
                         for v in value)
    if isinstance(value, dict):
        parts = []
        for key, inner in value.items():
            if isinstance(inner, dict):
                terms = ", ".join(f"{k} {v}" for k, v in inner.items() if v not in (None, "", 0))
                parts.append(f"{labels.SERVICE_LABELS.get(key, key)}" + (f" ({terms})" if terms else ""))
            else:
                parts.append(f"{key}: {inner}")
        return "; ".join(parts)
    return str(value)


def _staff():
    user = current()
    if not user.is_staff:
        raise Forbidden(_("Agreements are for library staff."))
    return user


def _as_of() -> date:
    value = request.args.get("as_of")
    if not value:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(_("as_of: '%(value)s' is not a date (use YYYY-MM-DD).", value=value), field="as_of")


def _visible(agreement, user) -> None:
    if user.role in MANAGERS:
        return
    if user.library_id not in {p.partner_id for p in agreement.parties}:
        raise Forbidden(_("This agreement is not your library's."))


# --- partners -------------------------------------------------------------


@bp.route("/partners/", methods=["GET", "POST"])
@login_required
def partner_list():
    user = current()
    error, status = None, 200
    if request.method == "POST":
        require_role(*MANAGERS)
        try:
            partner, created = partner_service.upsert(
                db.session, request.form.get("code", ""), request.form.get("name", "")
            )
            if not created:
                raise BadRequest(
                    _("A partner with the code %(code)s exists already.", code=partner.code),
                    field="code",
                )
            db.session.flush()
            partner_service.update(
                db.session,
                partner,
                {k: request.form.get(k, "") for k in ("region", "system") if request.form.get(k)},
                user,
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            flash(_("Partner %(code)s added.", code=partner.code), "success")
            return redirect(url_for("agreements.partner_detail", code=partner.code))
    rows = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    return render_template(
        "agreements/partners.html",
        partners=rows,
        closures=calendar.closures_on(db.session, clock.today()),
        today=clock.today(),
        may_manage=user.role in MANAGERS,
        systems=[s.value for s in LibrarySystem],
        error=error,
        form=request.form if error else None,
    ), status


def _may_edit_partner(user, partner) -> str | None:
    """'all', 'lending' (a librarian of that library) or None."""
    if user.role in MANAGERS:
        return "all"
    if user.role == "librarian" and user.library_id == partner.id:
        return "lending"
    return None


@bp.route("/partners/<code>", methods=["GET", "POST"])
@login_required
def partner_detail(code):
    user = current()
    partner = partner_service.get_by_code(db.session, code)
    may = _may_edit_partner(user, partner)
    error, status = None, 200
    if request.method == "POST":
        if may is None:
            raise Forbidden(_("Only that library's librarians or a coordinator may do this."))
        form = request.form
        if form.get("action") == "resume":
            data = {"lending_paused_until": None, "pause_reason": ""}
        elif form.get("action") == "pause":
            data = {
                "lending_paused_until": form.get("lending_paused_until", ""),
                "pause_reason": form.get("pause_reason", ""),
            }
            if not data["lending_paused_until"]:
                data = None
                error, status = _("Give the last day lending is paused."), 400
        elif form.get("action") == "review":
            data = {"review_requests": form.get("review_requests") == "on",
                    "max_open_requests": form.get("max_open_requests", ""),
                    "pickup_days": form.get("pickup_days", ""),
                    "block_overdue_patrons": form.get("block_overdue_patrons") == "on",
                    "closed_weekdays": form.getlist("closed_weekdays"),
                    "lending_policy": form.get("lending_policy", "")}
        elif form.get("action") == "rules":
            data = {"no_loan_formats": form.getlist("no_loan_formats"),
                    **{k: form.get(k, "") for k in partner_service.RULE_LIMITS}}
        else:
            data = {k: form.get(k, "") for k in partner_service.EDITABLE if k != "review_requests"}
        if data is not None:
            try:
                changes = partner_service.update(db.session, partner, data, user)
                db.session.commit()
            except ServiceError as exc:
                if exc.status == 403:
                    raise
                db.session.rollback()
                error, status = exc.message, exc.status
            else:
                if changes:
                    flash(_("Saved: %(fields)s.", fields=", ".join(changes)), "success")
                return redirect(url_for("agreements.partner_detail", code=partner.code))
    agreements = []
    if user.is_staff:
        rows = service.listing(db.session, clock.today(), library_id=partner.id)
        if user.role not in MANAGERS:
            rows = [r for r in rows if user.library_id in {p.partner_id for p in r[0].parties}]
        agreements = rows
    return render_template(
        "agreements/partner.html",
        partner=partner,
        may=may,
        error=error,
        form=request.form if error else None,
        systems=[s.value for s in LibrarySystem],
        holdings_tags=partner_service.HOLDINGS_TAGS,
        max_open_requests_max=partner_service.MAX_OPEN_REQUESTS,
        pickup_days_max=partner_service.MAX_PICKUP_DAYS,
        policy_max=partner_service.POLICY_MAX,
        rule_limits=partner_service.RULE_LIMITS,
        rules_said=partner_service.rules_said(partner, clock.today()),
        no_loan_formats=partner_service.formats_list(partner.no_loan_formats),
        formats=partner_service.format_choices(),
        pickup_days_default=setting("LOANS_PICKUP_DAYS"),
        closed=calendar.closures_on(db.session, clock.today(), [partner.id]).get(partner.id),
        agreements=agreements,
        history=db.session.scalars(
            select(PartnerChange)
            .where(PartnerChange.partner_id == partner.id)
            .order_by(PartnerChange.at.desc(), PartnerChange.id.desc())
        ).all()
        if user.is_staff
        else [],
        today=clock.today(),
    ), status


# --- calendar ----------------------------------------------------------------


def _say_added(added: list, already: list) -> None:
    if added:
        flash(ngettext("%(num)d closed day added.", "%(num)d closed days added.", len(added)), "success")
    if already:
        flash(ngettext("%(num)d day was closed already and is left as it was.",
                       "%(num)d days were closed already and are left as they were.", len(already)), "warning")


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
def calendar_page():
    """The days the network and a library are closed, kept by whom may."""
    user = _staff()
    code = request.args.get("library")  # absent: one's own library; empty: the network alone
    if code is None:
        code = user.library.code if user.library else ""
    library = partner_service.get_by_code(db.session, code) if code else None
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "remove":
                raw = form.get("id") or ""
                closed = db.session.get(ClosedDay, int(raw)) if raw.isdigit() else None
                if closed is None:
                    raise BadRequest(_("That closed day is gone already."), field="id")
                calendar.remove(db.session, user, closed)
                flash(_("%(day)s is open again.", day=format_day(closed.day)), "success")
            elif form.get("action") == "holidays":
                year = (form.get("year") or "").strip()
                if not year.isdigit():
                    raise BadRequest(_("year: give a year such as 2027."), field="year")
                _say_added(*calendar.add_public_holidays(db.session, user, int(year), str(get_locale() or "id")))
            else:
                scope = form.get("scope", "")
                target = None if scope == "network" else partner_service.get_by_code(db.session, scope)
                _say_added(*calendar.add(db.session, user, service.parse_day(form.get("day"), "day"),
                                         service.parse_day(form.get("until"), "until"),
                                         form.get("reason", ""), target))
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            error, status = exc.message, exc.status
        else:
            return redirect(url_for("agreements.calendar_page", library=code))
    today = clock.today()
    rows = calendar.listing(db.session, library.id if library else None, today,
                            every_library=library is None and user.role in MANAGERS)
    return render_template(
        "agreements/calendar.html",
        library=library,
        days=rows,
        may_keep=lambda row: calendar.may_keep(user, row.partner),
        may_keep_network=calendar.may_keep(user, None),
        may_keep_library=library is not None and calendar.may_keep(user, library),
        partners=db.session.scalars(select(Partner).order_by(Partner.code)).all(),
        error=error,
        form=request.form if error else None,
        year=today.year + 1 if today.month >= 10 else today.year,
        today=today,
    ), status


# --- dashboard -------------------------------------------------------------


@bp.get("/agreements/")
@login_required
def dashboard():
    user = _staff()
    day = _as_of()
    library_id = None if user.role in MANAGERS else user.library_id
    rows = service.listing(db.session, day, library_id=library_id)
    buckets = {30: [], 60: [], 90: []}
    for agreement, status in rows:
        if agreement.end_date is None or status in (st.TERMINATED, st.DRAFT):
            continue
        left = (agreement.end_date - day).days
        for limit in (30, 60, 90):
            if 0 <= left <= limit:
                buckets[limit].append((agreement, status, left))
                break
    expired = [(a, s) for a, s in rows if s == st.EXPIRED]
    unknown = [(a, s) for a, s in rows if s == st.UNKNOWN]
    counts = {s: sum(1 for _a, x in rows if x == s) for s in st.STATUSES}
    wanted = request.args.get("status") or None
    listed = [(a, s) for a, s in rows if wanted is None or s == wanted]
    return render_template(
        "agreements/dashboard.html",
        day=day,
        buckets=buckets,
        expired=sorted(expired, key=lambda r: r[0].end_date, reverse=True),
        unknown=unknown,
        counts=counts,
        rows=listed,
        wanted=wanted,
        statuses=st.STATUSES,
        traffic=_traffic(rows, library_id),
        may_manage=user.role in MANAGERS,
        partners=db.session.scalars(select(Partner).order_by(Partner.name)).all(),
        default_party=_busiest_party(rows, user),
    )


def _busiest_party(rows, user) -> int | None:
    """The import's default party: the user's library, else the library in
    most agreements (a coordinator's own, as a rule)."""
    if user.library_id:
        return user.library_id
    counts: dict[int, int] = {}
    for agreement, _status in rows:
        for party in agreement.parties:
            counts[party.partner_id] = counts.get(party.partner_id, 0) + 1
    return max(counts, key=lambda k: (counts[k], -k)) if counts else None


def _traffic(rows, library_id):
    """Per partner: requests under an agreement, or None before loans exist."""
    loaded = traffic_mod.load(db.session)
    if loaded is None:
        return None
    pairs = set()
    for agreement, _status in rows:
        ids = [p.partner_id for p in agreement.parties]
        pairs.update(frozenset((a, b)) for a in ids for b in ids if a != b)
    counts = traffic_mod.tally(loaded, pairs)
    partners = {p.id: p for p in db.session.scalars(select(Partner))}
    out = []
    for partner_id, t in counts.items():
        if library_id is not None and partner_id != library_id:
            continue
        if partner_id in partners:
            out.append((partners[partner_id], t))
    return sorted(out, key=lambda r: r[0].name)


@bp.post("/agreements/import")
def import_sheet():
    from . import sheets

    user = require_role(*MANAGERS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the CSV file to import."), "error")
        return redirect(url_for("agreements.dashboard"))
    try:
        report = sheets.import_csv(
            db.session,
            uploaded_text(upload.read()),
            request.form.get("party", ""),
            request.form.getlist("service"),
            service.Actor(user=user),
            filename=upload.filename,
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("agreements.dashboard"))
    return render_template("agreements/import_report.html", report=report, filename=upload.filename)


# --- one agreement ---------------------------------------------------------


def _form_data(form) -> dict:
    """The agreement form's fields as the service's plain data."""
    data = {name: form.get(name, "") for name in service.TEXT_FIELDS}
    data["scope_forms"] = form.getlist("scope_forms")
    data["state"] = form.get("state", "signed")
    data["parties"] = form.getlist("parties")
    data["start_date"] = form.get("start_date", "")
    data["end_date"] = form.get("end_date", "")
    data["duration_months"] = form.get("duration_months", "")
    data["warning_days"] = form.get("warning_days", "")
    services = {}
    for name in (s.value for s in Service):
        if form.get(f"service_{name}") == "on":
            services[name] = {key: form.get(f"{name}_{key}", "") for key in service.TERM_FIELDS}
    data["services"] = services
    return data


def _form_page(template_args: dict, status: int = 200):
    return render_template(
        "agreements/agreement_form.html",
        forms=COOPERATION_FORMS,
        services=[s.value for s in Service],
        term_fields=service.TERM_FIELDS,
        text_fields=[f for f in service.TEXT_FIELDS if f not in ("title", "number", "scope_text")],
        partners=db.session.scalars(select(Partner).order_by(Partner.name)).all(),
        **template_args,
    ), status


def _values_from(agreement) -> dict:
    snap = service.snapshot(agreement)
    snap["start_date"] = snap["start_date"] or ""
    snap["end_date"] = snap["end_date"] or ""
    return snap


@bp.route("/agreements/new", methods=["GET", "POST"])
def new_agreement():
    user = require_role(*MANAGERS)
    if request.method == "GET":
        values = {
            "parties": request.args.getlist("parties"),
            "scope_forms": [],
            "services": {},
            "state": "signed",
        }
        return _form_page({"values": values, "mode": "new"})
    data = _form_data(request.form)
    try:
        agreement = service.create(db.session, data, service.Actor(user=user))
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _form_page({"values": data, "mode": "new", "error": exc.message}, exc.status)
    flash(_("Agreement saved."), "success")
    return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
def edit_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    if request.method == "GET":
        return _form_page({"values": _values_from(agreement), "mode": "edit", "agreement": agreement})
    data = _form_data(request.form)
    # A form that leaves the duration empty while the end is given means "the end alone".
    try:
        changes = service.update(
            db.session,
            agreement,
            data,
            service.Actor(user=user),
            note=request.form.get("note", ""),
            version=request.form.get("version"),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(
            {
                "values": data,
                "mode": "edit",
                "agreement": agreement,
                "error": exc.message,
                "version": request.form.get("version"),
            },
            exc.status,
        )
    flash(
        _("Saved: %(fields)s.", fields=", ".join(changes)) if changes else _("Nothing changed."),
        "success",
    )
    return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))


@bp.route("/agreements/<int:agreement_id>/renew", methods=["GET", "POST"])
def renew_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    if request.method == "GET":
        values = _values_from(agreement)
        values["number"] = ""
        if agreement.end_date:
            values["start_date"] = (agreement.end_date + timedelta(days=1)).isoformat()
            values["end_date"] = ""
        return _form_page({"values": values, "mode": "renew", "agreement": agreement})
    data = _form_data(request.form)
    try:
        new = service.renew(db.session, agreement, data, service.Actor(user=user))
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(
            {"values": data, "mode": "renew", "agreement": agreement, "error": exc.message},
            exc.status,
        )
    flash(_("Agreement renewed: the new agreement supersedes the old one."), "success")
    return redirect(url_for("agreements.agreement_detail", agreement_id=new.id))


@bp.get("/agreements/<int:agreement_id>")
def agreement_detail(agreement_id):
    user = _staff()
    agreement = service.get(db.session, agreement_id)
    _visible(agreement, user)
    day = _as_of()
    history = db.session.scalars(
        select(AgreementChange)
        .where(AgreementChange.agreement_id == agreement.id)
        .order_by(AgreementChange.at.desc(), AgreementChange.id.desc())
    ).all()
    from .queries import status_of, warning_days_for

    return render_template(
        "agreements/agreement.html",
        agreement=agreement,
        status=status_of(agreement, day),
        warning_days=warning_days_for(agreement),
        day=day,
        chain=service.chain(db.session, agreement),
        history=history,
        may_manage=user.role in MANAGERS,
        today=clock.today(),
        usage=traffic_mod.usage(db.session, agreement, clock.today()),
    )


@bp.post("/agreements/<int:agreement_id>/terminate")
def terminate_agreement(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    try:
        service.terminate(
            db.session,
            agreement,
            request.form.get("terminated_on", ""),
            request.form.get("reason", ""),
            service.Actor(user=user),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Agreement terminated."), "success")
    return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))


@bp.post("/agreements/<int:agreement_id>/document")
def upload_document(agreement_id):
    user = require_role(*MANAGERS)
    agreement = service.get(db.session, agreement_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the signed PDF to upload."), "error")
        return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    try:
        service.attach_document(
            db.session,
            agreement,
            upload.stream,
            upload.filename,
            service.Actor(user=user),
            current_app.config["DATA_DIR"],
            int(current_app.config["AGREEMENTS_DOCUMENT_MAX_BYTES"]),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    flash(_("Signed document uploaded."), "success")
    return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))


@bp.get("/agreements/<int:agreement_id>/document")
def download_document(agreement_id):
    user = _staff()
    agreement = service.get(db.session, agreement_id)
    _visible(agreement, user)
    path = service.document_file(agreement, current_app.config["DATA_DIR"])
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=agreement.document_name or "agreement.pdf",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
