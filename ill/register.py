"""A library's register of interlibrary loans: every request it made, or
every request it was asked, in a period, one row each with its dates, as
libraries keep a ledger (buku register) for their reports and audits.

- Borrowing: the requests the library made (its patrons', or its own), by
  the day made; with the patron (the borrowing library may see who asked)
  and the library that supplied or has it now.
- Lending: the requests the library was asked, by the day asked, in every
  round (a request it could not supply and that went on is in its register
  too), with its own answer (the rota's outcome) and what became of it.

Librarians see their own library's; coordinators and administrators any
library's. The dates come from the requests' events, read in one statement.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import clock
from .accounts import User
from .errors import BadRequest, Forbidden
from .models import LoanRequest, RequestEvent, RotaEntry

SIDES = ("borrowing", "lending")
# The first day of each of these in a request's history.
MILESTONES = {"shipped": ("loaned", "copy_completed"), "received": ("received",),
              "sent_back": ("shipped_return",), "closed": ("checked_in", "settle_lost", "cancel", "expire")}

HEADINGS = {
    "borrowing": ["request", "made_on", "service", "title", "author", "year", "isbn", "issn", "part", "patron",
                  "card_number", "lender", "status", "shipped_on", "received_on", "sent_back_on", "closed_on",
                  "due_date", "cost"],
    "lending": ["request", "asked_on", "round", "service", "title", "author", "year", "isbn", "issn", "part",
                "borrower", "our_answer", "answered_on", "status", "shipped_on", "due_date", "closed_on", "cost"],
}


@dataclass
class Row:
    values: dict

    def cells(self, side: str) -> list:
        return [self.values.get(h) for h in HEADINGS[side]]


def library_for(session, user: User, code: str | None):
    """The library whose register ``user`` reads: whose reports they see
    (``facts.visible_partner_ids``): a librarian their own, coordinators and
    administrators the one they name (``code``)."""
    from agreements import partners

    from .facts import visible_partner_ids

    if visible_partner_ids(user) is not None:  # a librarian
        if code and partners.normalise_code(str(code)) != user.library.code:
            raise Forbidden(_("A librarian reads their own library's register only."))
        return user.library
    if not code:
        raise BadRequest(_("Name the library whose register to read ('library')."), field="library")
    return partners.get_by_code(session, str(code))


def read(session, user: User, args) -> tuple[object, str, date, date, list[Row]]:
    """The register ``user`` asks for, from the request's arguments (the
    page's or the API's: ``side``, ``library``, ``since``, ``until``):
    (library, side, first day, last day, rows)."""
    from . import facts

    side = args.get("side") or "borrowing"
    library = library_for(session, user, args.get("library"))
    first, last = facts.period(args.get("since"), args.get("until"), clock.today())
    return library, side, first, last, rows(session, library, side, first, last)


def rows(session, library, side: str, since: date, until: date) -> list[Row]:
    if side not in SIDES:
        raise BadRequest(_("'side' must be borrowing or lending."), field="side")
    # a year's register is thousands of rows: their records, patrons and libraries in a few statements
    eager = (selectinload(LoanRequest.cluster), selectinload(LoanRequest.patron),
             selectinload(LoanRequest.current_lender), selectinload(LoanRequest.requester_library))
    if side == "borrowing":
        found = session.scalars(select(LoanRequest).options(*eager).where(
            LoanRequest.requester_library_id == library.id, LoanRequest.created_on >= since,
            LoanRequest.created_on <= until).order_by(LoanRequest.created_on, LoanRequest.id)).all()
        asked = [(req, None) for req in found]
    else:
        asked = session.execute(select(LoanRequest, RotaEntry).options(*eager)
                                .join(RotaEntry, RotaEntry.request_id == LoanRequest.id)
                                .where(RotaEntry.partner_id == library.id, RotaEntry.asked_on.is_not(None),
                                       RotaEntry.asked_on >= since, RotaEntry.asked_on <= until)
                                .order_by(RotaEntry.asked_on, LoanRequest.id, RotaEntry.round)).all()
    firsts = _milestones(session, {req.id for req, _entry in asked})
    out = []
    for req, entry in asked:
        days = firsts.get(req.id, {})
        cite, what = req.citation or {}, req.described()
        values = {
            "request": req.id, "service": req.service, "title": what["title"], "author": what["author"],
            "year": what["year"], "isbn": " ".join(what["isbns"]), "issn": " ".join(what["issns"]),
            "part": "; ".join(v for v in (cite.get("article_title"), cite.get("volume"), cite.get("issue"),
                                          cite.get("pages")) if v),
            "status": req.status, "due_date": req.due_date, "cost": req.loan_cost or req.cost or "",
            "shipped_on": days.get("shipped"), "closed_on": days.get("closed"),
        }
        if side == "borrowing":
            values.update(made_on=req.created_on, patron=req.patron.name if req.patron else "",
                          card_number=(req.patron.card_number or "") if req.patron else "",
                          lender=req.current_lender.code if req.current_lender else "",
                          received_on=days.get("received"), sent_back_on=days.get("sent_back"))
        else:
            ours = entry.outcome + (f": {entry.outcome_detail}" if entry.outcome_detail else "")
            values.update(asked_on=entry.asked_on, round=entry.round, borrower=req.requester_library.code,
                          our_answer=ours, answered_on=entry.answered_on)
            if req.current_lender_id != library.id:  # it went on: its later life is another library's
                values.update(shipped_on=None, due_date=None, closed_on=None, cost="")
        out.append(Row(values))
    return out


def _milestones(session, request_ids: set[int]) -> dict[int, dict[str, date]]:
    wanted = {action: name for name, actions in MILESTONES.items() for action in actions}
    firsts: dict[int, dict[str, date]] = {}
    ids = sorted(request_ids)
    for start in range(0, len(ids), 1000):
        for rid, action, at in session.execute(
                select(RequestEvent.request_id, RequestEvent.action, func.min(RequestEvent.at))
                .where(RequestEvent.request_id.in_(ids[start:start + 1000]), RequestEvent.action.in_(wanted))
                .group_by(RequestEvent.request_id, RequestEvent.action)):
            day = clock.day_of(at)
            name = wanted[action]
            kept = firsts.setdefault(rid, {})
            if name not in kept or day < kept[name]:
                kept[name] = day
    return firsts


def to_dict(row: Row, side: str) -> dict:
    return {h: (v.isoformat() if hasattr(v, "isoformat") else (str(v) if v is not None and h == "cost" else v))
            for h, v in zip(HEADINGS[side], row.cells(side), strict=True)}
