"""Pages of the loan workflow: a patron's requests, a librarian's queues, the
request page with its rota and history, the pick slip and the request form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import clock, facts, iso18626, openurl, patrons, pickup, routing, workflow
from . import requests_service as service
from .accounts import Role, current, login_required, roles_required
from .errors import Forbidden, ServiceError
from .extensions import db
from .models import LoanRequest

bp = Blueprint("loans", __name__, url_prefix="/requests")


@bp.app_context_processor
def _labels():
    return {
        "loan_status_label": lambda s: str(workflow.STATUS_LABELS.get(s, s)),
        "loan_action_label": lambda a: str(workflow.ACTION_LABELS.get(a, a)),
        "loan_reason": routing.describe,
        "loan_outcome": lambda o: str(workflow.OUTCOME_LABELS.get(o, o)),
        "unfilled_label": lambda r: str(workflow.UNFILLED_LABELS.get(r, r)),
        "loan_passed_over": routing.passed_over_reason,
        "loan_pickup_by": pickup.kept_until,
        "loan_event_visible": workflow.visible_to,
        "loan_may_print_band": service.may_print_band,
        "loan_parcel_of": service.parcel_of,
    }


@bp.get("/mine")
@login_required
def my_requests():
    user = current()
    rows = service.queue(db.session, user, status=request.args.get("status") or None)
    return render_template("loans/mine.html", rows=rows)


@bp.get("/")
@roles_required(Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)
def queues():
    user = current()
    side = request.args.get("side") or "borrowing"
    if side not in ("borrowing", "lending"):
        side = "borrowing"
    status = request.args.get("status") or None
    q = (request.args.get("q") or "").strip()
    mine = side if user.role == Role.LIBRARIAN else None
    try:
        found = service.queue_page(db.session, user, mine, status, q, request.args.get("page") or 1,
                                   service.PER_PAGE)
    except ServiceError as exc:
        flash(exc.message, "error")
        found, status, q = service.queue_page(db.session, user, mine), None, ""
    rows = found.rows
    actions = {r.id: workflow.allowed_actions(r, service.roles_for(user, r)) for r in rows}
    return render_template(
        "loans/queues.html",
        rows=rows,
        found=found,
        q=q,
        side=side,
        status=status,
        counts=service.queue_counts(db.session, user),
        actions=actions,
        statuses=workflow.STATUSES,
        period=facts.default_period(clock.today()),  # the register's, as the facts' reports
        partners=_partner_codes() if user.role != Role.LIBRARIAN else [],
    )


def _partner_codes() -> list[str]:
    from sqlalchemy import select

    from agreements.models import Partner

    return list(db.session.scalars(select(Partner.code).order_by(Partner.code)))


@bp.get("/register.csv")
@roles_required(Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)
def register_csv():
    """A library's register of the requests it made or was asked, in a period."""
    from . import register
    from .tables import spreadsheet

    library, side, since, until, found = register.read(db.session, current(), request.args)
    return spreadsheet([register.HEADINGS.get(side, []), *(r.cells(side) for r in found)],
                       f"register-{library.code.lower()}-{side}-{since.isoformat()}-{until.isoformat()}.csv")


def _say_outcome(done: list[int], refused: list[tuple[int, str]], said_done, said_refused) -> None:
    """What an action on several requests did (``requests_service.act_many``):
    those done in one line, each refused with why."""
    if done:
        flash(said_done(", ".join(f"#{rid}" for rid in done)), "success")
    for rid, why in refused:
        flash(said_refused(rid, why), "error")


@bp.route("/pull-list", methods=["GET", "POST"])
@roles_required(Role.LIBRARIAN)
def pull_list():
    """The lending library's list of what to fetch from its shelves, to print;
    the loans fetched are marked shipped from it in one go."""
    user = current()
    if request.method == "POST":
        form = request.form
        ship = [raw for raw in form.getlist("ship") if raw.isdigit()]
        missing = [raw for raw in form.getlist("missing") if raw.isdigit()]
        both = set(ship) & set(missing)
        for raw in sorted(both, key=int):
            flash(_("Request #%(id)s was ticked both fetched and not on the shelf: it was left as it was.", id=raw),
                  "error")
        wanted = [(int(raw), form.get(f"version-{raw}"), form.get(f"barcode-{raw}", ""))
                  for raw in ship if raw not in both]
        done, refused = service.ship_fetched(db.session, user, wanted)
        passed, not_passed = service.not_on_the_shelf(
            db.session, user, [(int(raw), form.get(f"version-{raw}")) for raw in missing if raw not in both])
        db.session.commit()
        _say_outcome(done, refused, lambda ids: _("Marked shipped: %(ids)s.", ids=ids),
                     lambda rid, why: _("Request #%(id)s was not marked shipped: %(why)s", id=rid, why=why))
        _say_outcome(passed, not_passed,
                     lambda ids: _("Not on the shelf, passed to the next lender: %(ids)s.", ids=ids),
                     lambda rid, why: _("Request #%(id)s was not answered: %(why)s", id=rid, why=why))
        if not ship and not missing:
            flash(_("Tick the loans you have fetched, or the items not on the shelf."), "error")
        return redirect(url_for("loans.pull_list"), code=303)
    rows = service.pull_list(db.session, user)
    allowed = {req.id: workflow.allowed_actions(req, {workflow.LENDER}) for req, _items in rows}
    shippable = {rid for rid, actions in allowed.items() if "loaned" in actions}
    answerable = {rid for rid, actions in allowed.items() if "unfilled" in actions}
    return render_template("loans/pull_list.html", rows=rows, shippable=shippable, answerable=answerable,
                           library=user.library, today=clock.today())


@bp.get("/pull-list/labels")
@roles_required(Role.LIBRARIAN)
def pull_list_labels():
    """The address labels of the morning's parcels: one for each loan on the
    lender's pull list, in its order, to print on one sheet."""
    user = current()
    labels = []
    for req, _items in service.pull_list(db.session, user):
        parties = service.parcel_of(user, req)
        if parties is not None:
            labels.append((req, *parties))
    return render_template("loans/labels.html", labels=labels, today=clock.today())


@bp.route("/hold-shelf", methods=["GET", "POST"])
@roles_required(Role.LIBRARIAN)
def hold_shelf():
    """The borrowing library's books waiting for their patrons, to print; those
    past their day first, to send back, which is done from here in one go."""
    user = current()
    if request.method == "POST":
        form = request.form
        wanted = [(int(raw), form.get(f"version-{raw}")) for raw in form.getlist("back") if raw.isdigit()]
        done, refused = pickup.send_back(db.session, user, wanted)
        db.session.commit()
        _say_outcome(done, refused, lambda ids: _("Returned and shipped back to their lenders: %(ids)s.", ids=ids),
                     lambda rid, why: _("Request #%(id)s was not sent back: %(why)s", id=rid, why=why))
        if not wanted:
            flash(_("Tick the books to send back to their lenders."), "error")
        return redirect(url_for("loans.hold_shelf"), code=303)
    q = (request.args.get("q") or "").strip()
    rows = pickup.hold_shelf(db.session, user.library_id, clock.today(), q=q)
    return render_template("loans/hold_shelf.html", rows=rows, q=q, library=user.library, today=clock.today())


@bp.get("/<int:request_id>")
@login_required
def detail(request_id: int):
    user = current()
    req = service.get_visible(db.session, user, request_id)
    roles = service.roles_for(user, req)
    actions = workflow.allowed_actions(req, roles)
    return render_template(
        "loans/detail.html",
        req=req,
        copies=_lender_items(req) if "loaned" in actions else [],
        staff=user.role != Role.PATRON,
        show_patron=service.can_see_patron(user, req),
        actions=actions,
        params=workflow.ACTION_PARAMS,
        reasons=workflow.UNFILLED_REASONS,
        iso_messages=iso18626.messages_of(db.session, req.id) if user.role != Role.PATRON else [],
        iso_states=iso18626.STATE_LABELS,
    )


@bp.post("/<int:request_id>/act")
@login_required
def act(request_id: int):
    user = current()
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if request.files:
        data["files"] = request.files
    action = data.get("action", "")
    try:
        service.act(db.session, user, request_id, action, data, data.get("version"))
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(_("Done: %(action)s.", action=workflow.ACTION_LABELS.get(action, action)), "success")
    return redirect(url_for("loans.detail", request_id=request_id), code=303)


@bp.get("/hold-shelf/bands")
@roles_required(Role.LIBRARIAN)
def hold_shelf_bands():
    """The book bands of the books the library received on a day (``day``,
    today by default) and that still wait for their patrons: printed on one
    sheet as the parcels are unpacked."""
    user = current()
    day = service.parse_day(request.args.get("day"), "day") or clock.today()
    rows = pickup.hold_shelf(db.session, user.library_id, clock.today(), received=day)
    return render_template("loans/bands.html", rows=rows, day=day, today=clock.today())


@bp.get("/<int:request_id>/band")
@roles_required(Role.LIBRARIAN)
def book_band(request_id: int):
    """The borrowing library's band for a loan received: whose it is, whose
    book, when it is due back; printed and slipped into the book."""
    user = current()
    req = service.get_visible(db.session, user, request_id)
    if not service.may_print_band(user, req):
        raise Forbidden(_("A book band is the borrowing library's, for a loan."))
    return render_template("loans/band.html", req=req, today=clock.today())


@bp.get("/<int:request_id>/label")
@roles_required(Role.LIBRARIAN)
def shipping_label(request_id: int):
    """The address label for the parcel the librarian's library sends: the
    lender's to the borrowing library, or the book's way back."""
    user = current()
    req = service.get_visible(db.session, user, request_id)
    parties = service.parcel_of(user, req)
    if parties is None:
        raise Forbidden(_("A shipping label is for the library that sends a loan's parcel, either way."))
    sender, recipient = parties
    return render_template("loans/label.html", req=req, sender=sender, recipient=recipient, today=clock.today(),
                           back=sender.id == req.requester_library_id)


@bp.get("/<int:request_id>/slip")
@roles_required(Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)
def pick_slip(request_id: int):
    user = current()
    req = service.get_visible(db.session, user, request_id)
    items = _lender_items(req)
    return render_template("loans/slip.html", req=req, items=items, today=clock.today())


def _lender_items(req: LoanRequest) -> list:
    """The current lender's copies of the record asked, the likeliest first."""
    if req.cluster_id is None or req.current_lender_id is None:
        return []
    return service.lender_copies(db.session, req.current_lender_id, [req.cluster_id]).get(req.cluster_id, [])


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_request():
    user = current()
    if user.role not in (Role.PATRON, Role.LIBRARIAN) or user.library_id is None:
        raise Forbidden(_("Only a patron or a librarian of a partner library can make a request."))
    record_id = request.values.get("record_id", type=int)
    cluster = None
    if record_id is not None:
        from union_catalog.models import Cluster

        cluster = db.session.get(Cluster, record_id)
    form = request.form if request.method == "POST" else {}
    if request.method == "GET" and cluster is None and openurl.is_openurl(request.args):
        # a database's "ask your library" link: the citation typed in for the patron
        form, cluster = openurl.prefill(db.session, request.args)
        record_id = cluster.id if cluster is not None else None
    error = None
    if request.method == "POST":
        data = {
            "record_id": record_id,
            "service": form.get("service", "loan"),
            "citation": {k: form.get(k, "") for k in service.CITATION_FIELDS if form.get(k)},
            "copyright_ack": form.get("copyright_ack") == "yes",
            "needed_by": form.get("needed_by") or None,
            "note": form.get("note", ""),
            "patron": form.get("patron") if user.role == Role.LIBRARIAN else None,
        }
        try:
            req = service.create(db.session, user, data)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            if req.patron_id != user.id:
                flash(_("Request %(id)s made for %(name)s, who is told.", id=req.id, name=req.patron.name), "success")
            else:
                flash(
                    _("Your request has been sent. Number: %(id)s.", id=req.id)
                    if req.status != "new"
                    else _("Your request will be reviewed by your library. Number: %(id)s.", id=req.id),
                    "success",
                )
            return redirect(url_for("loans.detail", request_id=req.id), code=303)
    availability = {}
    if cluster is not None:
        from agreements.models import Partner

        for service_name in ("loan", "copy"):
            for pid, verdict in routing.requestability(
                db.session, user.library_id, cluster.id, service_name, clock.today()
            ).items():
                partner = db.session.get(Partner, pid)
                availability.setdefault(partner.code, {"name": partner.name,
                                                       "policy": partner.lending_policy})[service_name] = verdict
    status = 200 if error is None else error.status
    return render_template(
        "loans/new.html", cluster=cluster, record_id=record_id, form=form, error=error, availability=availability,
        allowance=patrons.open_requests_allowed(db.session, user),
        suspension=patrons.suspension_of(db.session, user.id, clock.today()) if user.role == Role.PATRON else None,
        kept_back=patrons.kept_back(db.session, user, clock.today()),
    ), status
