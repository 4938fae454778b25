"""The facts behind decisions, per partner library and period: how much it
borrows and lends, how often and how fast requests are filled, the balance
between lending and borrowing, and what patrons say of the service.

The arithmetic is plain functions over plain rows (``summarise``); the
database part only gathers the rows (``partner_facts``). Routing's lender
record and the coordinators' reports both read these numbers from here.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _

from . import clock
from .errors import BadRequest, Forbidden
from .workflow import LOST

# A request is filled for its borrower once the item or copy is on its way.
FILLED_STATES = ("loaned", "copy_completed")
# Statuses from which a patron may say how the service was.
RATEABLE_STATES = ("returned", "shipped_return", "completed", "completed_without_return", "copy_completed",
                   "unfilled")
# Lender outcomes of a rota entry that count as asked and answered.
SUPPLIED = "supplied"
NOT_SUPPLIED = ("unfilled", "no_answer", "condition_rejected", "refused")


@dataclass(frozen=True)
class RequestRow:
    """One request as its borrowing library made it."""

    borrower_id: int
    created: date
    filled_on: date | None  # first day it reached a FILLED_STATE
    status: str
    rating: int | None = None
    lender_id: int | None = None  # the library that has it, or had it last


@dataclass(frozen=True)
class EntryRow:
    """One lender asked on one request."""

    lender_id: int
    asked_on: date
    outcome: str
    answered_on: date | None


@dataclass
class PartnerFacts:
    partner_id: int
    code: str = ""
    name: str = ""
    requests_made: int = 0
    requests_filled: int = 0
    requests_unfilled: int = 0
    requests_open: int = 0
    requests_lost: int = 0  # books it borrowed that were lost
    asked: int = 0
    supplied: int = 0
    not_supplied: int = 0
    lent_lost: int = 0  # books it lent that were lost
    ruled_out: int = 0  # times its own lending rules ruled it out of a rota (``ruled_out``)
    turnaround: list[int] = field(default_factory=list)  # days from request to filled
    response: list[int] = field(default_factory=list)  # days from asked to supplied
    ratings: list[int] = field(default_factory=list)

    @property
    def fill_rate(self) -> float | None:
        """Share of its decided requests that were filled (as borrower)."""
        decided = self.requests_filled + self.requests_unfilled
        return self.requests_filled / decided if decided else None

    @property
    def lender_fill_rate(self) -> float | None:
        answered = self.supplied + self.not_supplied
        return self.supplied / answered if answered else None

    @property
    def balance(self) -> int:
        """Items lent minus items borrowed: above 0 lends more than it borrows."""
        return self.supplied - self.requests_filled

    @property
    def median_turnaround_days(self) -> float | None:
        return statistics.median(self.turnaround) if self.turnaround else None

    @property
    def mean_response_days(self) -> float | None:
        return round(statistics.fmean(self.response), 1) if self.response else None

    @property
    def satisfaction(self) -> float | None:
        return round(statistics.fmean(self.ratings), 2) if self.ratings else None

    def to_dict(self) -> dict:
        def pct(x):
            return round(x, 3) if x is not None else None

        return {
            "library": self.code, "name": self.name,
            "borrowing": {"requests": self.requests_made, "filled": self.requests_filled,
                          "unfilled": self.requests_unfilled, "open": self.requests_open,
                          "lost": self.requests_lost,
                          "fill_rate": pct(self.fill_rate),
                          "median_turnaround_days": self.median_turnaround_days},
            "lending": {"asked": self.asked, "supplied": self.supplied, "not_supplied": self.not_supplied,
                        "lost": self.lent_lost, "ruled_out": self.ruled_out, "fill_rate": pct(self.lender_fill_rate),
                        "mean_response_days": self.mean_response_days},
            "balance": self.balance,
            "satisfaction": {"average": self.satisfaction, "ratings": len(self.ratings)},
        }


def summarise(partners: dict[int, tuple[str, str]], requests: Iterable[RequestRow],
              entries: Iterable[EntryRow]) -> dict[int, PartnerFacts]:
    """Facts per partner from the rows of one period. ``partners`` maps an id
    to (code, name); rows of other libraries are ignored."""
    facts = {pid: PartnerFacts(pid, code, name) for pid, (code, name) in partners.items()}
    for r in requests:
        # a book reported lost, settled or not (workflow.LOST), counts as filled all the same
        if r.status in LOST and r.lender_id in facts:
            facts[r.lender_id].lent_lost += 1
        f = facts.get(r.borrower_id)
        if f is None:
            continue
        f.requests_made += 1
        if r.filled_on is not None:
            f.requests_filled += 1
            f.turnaround.append((r.filled_on - r.created).days)
        elif r.status in ("unfilled", "cancelled"):
            f.requests_unfilled += r.status == "unfilled"
        else:
            f.requests_open += 1
        if r.rating is not None:
            f.ratings.append(r.rating)
        f.requests_lost += r.status in LOST
    for e in entries:
        f = facts.get(e.lender_id)
        if f is None:
            continue
        if e.outcome == SUPPLIED:
            f.asked += 1
            f.supplied += 1
            if e.answered_on is not None:
                f.response.append((e.answered_on - e.asked_on).days)
        elif e.outcome in NOT_SUPPLIED:
            f.asked += 1
            f.not_supplied += 1
        elif e.outcome == "asked":
            f.asked += 1
    return facts


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=365), today


def period(since: str | None, until: str | None, today: date) -> tuple[date, date]:
    """A report's period as asked (YYYY-MM-DD, either end may be left out:
    the last year to today), or 400."""
    first, last = default_period(today)
    try:
        if since:
            first = date.fromisoformat(since)
        if until:
            last = date.fromisoformat(until)
    except ValueError:
        raise BadRequest(_("Give dates as YYYY-MM-DD."), field="since") from None
    if first > last:
        raise BadRequest(_("The period starts after it ends."), field="since")
    return first, last


def partner_facts(session, since: date, until: date, partner_ids: Iterable[int] | None = None
                  ) -> dict[int, PartnerFacts]:
    """The facts of each partner (or the ones named) for requests made, and
    lenders asked, from ``since`` to ``until`` inclusive."""
    from sqlalchemy import func, or_, select

    from agreements.models import Partner

    from .models import LoanRequest, RequestEvent, RequestFeedback, RotaEntry

    query = select(Partner.id, Partner.code, Partner.name)
    if partner_ids is not None:
        partner_ids = list(partner_ids)
        query = query.where(Partner.id.in_(partner_ids))
    partners = {pid: (code, name) for pid, code, name in session.execute(query)}
    if not partners:
        return {}
    filled_at = (select(RequestEvent.request_id, func.min(RequestEvent.at).label("at"))
                 .where(RequestEvent.to_status.in_(FILLED_STATES))
                 .group_by(RequestEvent.request_id).subquery())
    rows = session.execute(
        select(LoanRequest.requester_library_id, LoanRequest.created_on, filled_at.c.at,
               LoanRequest.status, RequestFeedback.rating, LoanRequest.current_lender_id)
        .outerjoin(filled_at, filled_at.c.request_id == LoanRequest.id)
        .outerjoin(RequestFeedback, RequestFeedback.request_id == LoanRequest.id)
        .where(or_(LoanRequest.requester_library_id.in_(partners),
                   LoanRequest.current_lender_id.in_(partners) & LoanRequest.status.in_(LOST)),
               LoanRequest.created_on >= since, LoanRequest.created_on <= until))
    requests = [RequestRow(pid, created, clock.day_of(at), status, rating, lender)
                for pid, created, at, status, rating, lender in rows]
    entries = [EntryRow(pid, asked, outcome, answered) for pid, asked, outcome, answered in session.execute(
        select(RotaEntry.partner_id, RotaEntry.asked_on, RotaEntry.outcome, RotaEntry.answered_on)
        .where(RotaEntry.partner_id.in_(partners), RotaEntry.asked_on.is_not(None),
               RotaEntry.asked_on >= since, RotaEntry.asked_on <= until))]
    return summarise(partners, requests, entries)


def ruled_out(session, since: date, until: date, partner_ids: Iterable[int]) -> dict[int, int]:
    """How often each library's own lending rules (``ill.routing.rules_judgement``)
    kept it from being asked, for requests made from ``since`` to ``until``:
    left out of a rota for a rule, or passed over for one as its turn came.
    For coordinators weighing a library's rules against the demand they turn
    away; never counted as asked or not supplied."""
    from sqlalchemy import and_, func, or_, select

    from .models import LoanRequest, RotaEntry
    from .routing import RULE_CODES

    ids = list(partner_ids)
    if not ids:
        return {}
    return dict(session.execute(
        select(RotaEntry.partner_id, func.count(RotaEntry.id))
        .join(LoanRequest, LoanRequest.id == RotaEntry.request_id)
        .where(RotaEntry.partner_id.in_(ids), LoanRequest.created_on >= since, LoanRequest.created_on <= until,
               or_(and_(RotaEntry.outcome == "excluded", RotaEntry.reason_code.in_(RULE_CODES)),
                   and_(RotaEntry.outcome == "passed_over", RotaEntry.outcome_detail.in_(RULE_CODES))))
        .group_by(RotaEntry.partner_id)).all())


# --- patron feedback -------------------------------------------------------------

def give_feedback(session, user, request_id: int, rating, comment: str = ""):
    """A patron says how the service was for one of their requests (1 to 5);
    asking again replaces the earlier answer."""
    from sqlalchemy import select

    from .models import LoanRequest, RequestFeedback

    req = session.get(LoanRequest, request_id)
    if req is None or req.patron_id != user.id:
        from .errors import NotFound

        raise NotFound(_("No request %(id)s among yours.", id=request_id))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise BadRequest(_("Give a rating from 1 (poor) to 5 (excellent)."), field="rating")
    if req.status not in RATEABLE_STATES:
        raise BadRequest(_("You can rate a request once it has been supplied or could not be filled."),
                         code="not_yet", field="rating")
    row = session.scalar(select(RequestFeedback).where(RequestFeedback.request_id == req.id))
    if row is None:
        row = RequestFeedback(request_id=req.id, patron_id=user.id)
        session.add(row)
    row.rating = rating
    row.comment = (comment or "").strip()[:2000]
    return row


def visible_partner_ids(user) -> list[int] | None:
    """Whose facts a user may see: coordinators and admins the whole network,
    a librarian their own library; None means all."""
    from .accounts import Role

    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return None
    if user.role == Role.LIBRARIAN and user.library_id is not None:
        return [user.library_id]
    raise Forbidden(_("The facts are for librarians and coordinators."))


def narrowed(session, user, code: str | None) -> list[int] | None:
    """Whose reports ``user`` sees (``visible_partner_ids``), narrowed by a
    coordinator to one library (``code``); a librarian's own library stays
    theirs whatever they name. None means all."""
    from agreements.partners import by_code

    visible = visible_partner_ids(user)
    chosen = (code or "").strip().upper()
    if chosen and visible is None:
        library = by_code(session, chosen)
        if library is None:
            raise BadRequest(_("No partner library has the code '%(code)s'.", code=chosen[:20]), field="library")
        visible = [library.id]
    return visible


__all__ = ["narrowed", "period", "PartnerFacts", "RequestRow", "EntryRow", "summarise", "partner_facts",
           "give_feedback", "visible_partner_ids", "default_period"]
