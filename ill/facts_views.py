"""The facts page, its CSV, its API, and patrons' feedback on their requests."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from . import clock, facts
from .accounts import current, login_required
from .api import make_blueprint
from .config import setting
from .extensions import db
from .tables import spreadsheet

bp = Blueprint("reports", __name__, url_prefix="/facts")
api = make_blueprint("facts_api", __name__)


def _period() -> tuple[date, date]:
    return facts.period(request.args.get("since"), request.args.get("until"), clock.today())


def _rows():
    user = current()
    since, until = _period()
    found = facts.partner_facts(db.session, since, until, facts.visible_partner_ids(user))
    for pid, n in facts.ruled_out(db.session, since, until, found).items():
        found[pid].ruled_out = n
    rows = sorted(found.values(), key=lambda f: (-f.requests_made - f.asked, f.code))
    return rows, since, until


@bp.get("/", endpoint="facts")
@login_required
def facts_page():
    rows, since, until = _rows()
    return render_template("facts/facts.html", rows=rows, since=since, until=until)


@bp.get("/facts.csv")
@login_required
def facts_csv():
    rows, since, until = _rows()
    table = [["library", "requests", "filled", "unfilled", "open", "fill_rate", "median_turnaround_days",
              "lost", "asked", "supplied", "not_supplied", "lender_fill_rate", "mean_response_days",
              "lent_lost", "ruled_out", "balance", "satisfaction", "ratings"]]
    table += [[f.code, f.requests_made, f.requests_filled, f.requests_unfilled, f.requests_open,
               _num(f.fill_rate), _num(f.median_turnaround_days), f.requests_lost, f.asked, f.supplied,
               f.not_supplied, _num(f.lender_fill_rate), _num(f.mean_response_days), f.lent_lost,
               f.ruled_out, f.balance, _num(f.satisfaction), len(f.ratings)] for f in rows]
    return spreadsheet(table, f"facts-{since.isoformat()}-{until.isoformat()}.csv")


def _num(value):
    return "" if value is None else round(value, 3)


def _charges():
    """The statement of the period, as far as the user may see it, with the libraries' codes and names."""
    from agreements.models import Partner

    from . import charges

    user = current()
    since, until = _period()
    visible = facts.visible_partner_ids(user)
    accounts = charges.statement(db.session, since, until, visible)
    names = {pid: (code, name) for pid, code, name in db.session.execute(select(Partner.id, Partner.code,
                                                                                Partner.name))}
    return accounts, names, since, until


@bp.get("/charges", endpoint="charges")
@login_required
def charges_page():
    accounts, names, since, until = _charges()
    return render_template("facts/charges.html", accounts=accounts, names=names, since=since, until=until)


@bp.get("/charges.csv")
@login_required
def charges_csv():
    accounts, names, since, until = _charges()
    currency = setting("CHARGES_CURRENCY")
    rows = [["borrower", "lender", "loans", "loans_cost", "copies", "pages", "copies_cost", "total", "currency",
             "losses"]]
    rows += [[names[a.borrower_id][0], names[a.lender_id][0], a.loans, a.loans_cost, a.copies, a.pages,
              a.copies_cost, a.total, currency, "; ".join(f"#{rid}: {charge}" for rid, charge in a.losses)]
             for a in accounts]
    return spreadsheet(rows, f"charges-{since.isoformat()}-{until.isoformat()}.csv")


@api.get("/charges")
@login_required
def charges_api():
    accounts, names, since, until = _charges()
    codes = {pid: code for pid, (code, _name) in names.items()}
    return jsonify({"since": since.isoformat(), "until": until.isoformat(),
                    "currency": setting("CHARGES_CURRENCY"), "accounts": [a.to_dict(codes) for a in accounts]})


def _overdue():
    """The books that should be back, as far as the user may see them; a
    coordinator may narrow them to one library (``library``, its code)."""
    from agreements.models import Partner

    from . import overdue

    user = current()
    chosen = (request.args.get("library") or "").strip().upper()
    visible = facts.narrowed(db.session, user, chosen)
    names = {pid: (code, name) for pid, code, name in db.session.execute(select(Partner.id, Partner.code,
                                                                                Partner.name))}
    late, lost = overdue.late_loans(db.session, clock.today(), visible, user.library_id)
    return late, lost, overdue.tally(late, lost), names, chosen


@bp.get("/overdue", endpoint="overdue")
@login_required
def overdue_page():
    late, lost, tallies, names, chosen = _overdue()
    return render_template("facts/overdue.html", late=late, lost=lost, tallies=tallies, names=names,
                           chosen=chosen, today=clock.today(), long_days=int(setting("LOANS_OVERDUE_REMIND_DAYS")))


@bp.get("/overdue.csv")
@login_required
def overdue_csv():
    late, lost, _tallies, names, chosen = _overdue()
    rows = [["request", "title", "borrower", "lender", "status", "due_date", "days_late", "long_overdue",
             "recalled_on", "renewal_asked", "lost_on", "patron"]]
    rows += [[x.request_id, x.title, names[x.borrower_id][0], names.get(x.lender_id, ("",))[0], x.status,
              x.due_date, x.days_late, "yes" if x.long_overdue else "", x.recalled_on, x.renewal_asked,
              x.lost_on, x.patron or ""] for x in late + lost]
    return spreadsheet(rows, f"overdue-{chosen.lower() + '-' if chosen else ''}{clock.today().isoformat()}.csv")


@api.get("/overdue")
@login_required
def overdue_api():
    late, lost, tallies, names, _chosen = _overdue()
    codes = {pid: code for pid, (code, _name) in names.items()}
    return jsonify({
        "as_of": clock.today().isoformat(),
        "late": [x.to_dict(codes) for x in late],
        "lost": [x.to_dict(codes) for x in lost],
        "libraries": [{"library": codes[pid], **vars(t)} for pid, t in
                      sorted(tallies.items(), key=lambda kv: codes[kv[0]])],
    })


def _unmet():
    """The titles not supplied in the period, for the libraries the user may
    see; a coordinator may narrow them to one library (``library``)."""
    from agreements.models import Partner

    from . import unmet

    user = current()
    since, until = _period()
    chosen = (request.args.get("library") or "").strip().upper()
    visible = facts.narrowed(db.session, user, chosen)
    codes = dict(db.session.execute(select(Partner.id, Partner.code)).all())
    return unmet.unmet(db.session, since, until, visible), codes, since, until, chosen


@bp.get("/unmet", endpoint="unmet")
@login_required
def unmet_page():
    from . import unmet

    rows, codes, since, until, chosen = _unmet()
    return render_template("facts/unmet.html", rows=rows, codes=codes, since=since, until=until, chosen=chosen,
                           say=unmet.say_reason, may_choose=facts.visible_partner_ids(current()) is None)


@bp.get("/unmet.csv")
@login_required
def unmet_csv():
    from . import unmet

    rows, codes, since, until, chosen = _unmet()
    table = [["record", "title", "author", "year", "isbn", "requests", "libraries", "last_asked", "holders",
              "why_not_supplied"]]
    table += [[u.record_id or "", u.title, u.author, u.year or "", " ".join(u.isbns), u.requests,
               " ".join(f"{codes.get(pid, pid)}:{n}" for pid, n in sorted(u.libraries.items(),
                                                                        key=lambda kv: codes.get(kv[0], ""))),
               u.last_asked, u.holders, "; ".join(f"{unmet.say_reason(r)} ({n})" for r, n in u.reasons.most_common())]
              for u in rows]
    suffix = f"{chosen.lower()}-" if chosen else ""
    return spreadsheet(table, f"unmet-{suffix}{since.isoformat()}-{until.isoformat()}.csv")


@api.get("/unmet")
@login_required
def unmet_api():
    from . import unmet

    rows, codes, since, until, _chosen = _unmet()
    return jsonify({"since": since.isoformat(), "until": until.isoformat(),
                    "titles": [u.to_dict(codes, unmet.say_reason) for u in rows]})


@api.get("/facts")
@login_required
def facts_api():
    rows, since, until = _rows()
    return jsonify({"since": since.isoformat(), "until": until.isoformat(), "libraries": [f.to_dict() for f in rows]})


@api.post("/requests/<int:request_id>/feedback")
@login_required
def feedback_api(request_id: int):
    body = request.get_json(silent=True) or {}
    row = facts.give_feedback(db.session, current(), request_id, body.get("rating"), body.get("comment", ""))
    db.session.commit()
    return jsonify({"request": request_id, "rating": row.rating, "comment": row.comment}), 201


@bp.post("/feedback/<int:request_id>")
@login_required
def feedback_form(request_id: int):
    facts.give_feedback(db.session, current(), request_id, request.form.get("rating"),
                        request.form.get("comment", ""))
    db.session.commit()
    flash(_("Thank you: your rating has been saved."), "success")
    return redirect(url_for("loans.detail", request_id=request_id))


def feedback_for(req):
    """For the request page: the patron's earlier rating, if any."""
    from .models import RequestFeedback

    return db.session.scalar(select(RequestFeedback).where(RequestFeedback.request_id == req.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.jinja_env.globals.update(request_feedback=feedback_for, rateable_states=facts.RATEABLE_STATES)
