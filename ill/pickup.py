"""How long a book received for a patron waits for them at the borrowing
library (its hold shelf), and what the daily tick does when it waits too
long.

A loan received from the lender is kept for its patron for the borrowing
library's ``pickup_days`` (``LOANS_PICKUP_DAYS``, 7, when the library sets
none), counted from the day it was received, that day the first; a last
day the library is closed moves to its next open day (agreements.calendar). The day
before its last day (or on it, if the tick missed that) the patron is
reminded, once; the day after the last, the patron is told it goes back,
and the borrowing library's librarians that it was not collected: they mark
it returned and ship it back to the lender (by hand, since the book is on
their shelf), or lend it to the patron late if the patron comes after all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import clock

# The patron is reminded once the book is kept this many days more at most
# (1: the day before its last day).
REMIND_WITHIN_DAYS = 1


def shelf_days(library) -> int:
    """How many days the library keeps a book received for a patron."""
    from .config import setting

    days = getattr(library, "pickup_days", None)
    return int(days) if days else int(setting("LOANS_PICKUP_DAYS"))


def received_on(req) -> date | None:
    """The day (on the network's calendar) the borrowing library last
    received the book, from the request's history."""
    days = [clock.day_of(e.at) for e in req.events if e.to_status == "received" and e.from_status != "received"]
    return max(days) if days else None


def kept_until(req, calendar=None) -> date | None:
    """The last day a book received waits for its patron; None unless the
    loan is received and waiting. Never a day the borrowing library is
    closed: then its next open day (``calendar``: the library's, read if
    not given)."""
    if req.service != "loan" or req.status != "received":
        return None
    day = received_on(req)
    if day is None:
        return None
    if calendar is None:
        from sqlalchemy.orm import object_session

        from agreements.calendar import for_library

        calendar = for_library(object_session(req), req.requester_library, day)
    return calendar.open_on_or_after(day + timedelta(days=shelf_days(req.requester_library) - 1))


@dataclass(frozen=True)
class Waiting:
    """A book on the borrowing library's hold shelf."""

    request: object
    received_on: date
    kept_until: date
    expired: bool  # past its last day: to go back to the lender


def waiting(session, day: date, library_id: int | None = None) -> list[Waiting]:
    """The loans received and not yet lent to their patron (of one library,
    or all), those past their day first, then by the day they go back."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from agreements.calendar import for_library

    from .models import LoanRequest

    where = [LoanRequest.service == "loan", LoanRequest.status == "received"]
    if library_id is not None:
        where.append(LoanRequest.requester_library_id == library_id)
    rows = session.scalars(
        select(LoanRequest)
        .options(selectinload(LoanRequest.events), selectinload(LoanRequest.patron),
                 selectinload(LoanRequest.current_lender), selectinload(LoanRequest.requester_library))
        .where(*where)).all()
    earliest: dict[int, date] = {}  # each library's calendar is read once, from its oldest book's day
    for req in rows:
        came = received_on(req)
        if came is not None:
            earliest[req.requester_library_id] = min(came, earliest.get(req.requester_library_id, came))
    calendars = {lib.id: for_library(session, lib, earliest[lib.id])
                 for lib in {req.requester_library for req in rows} if lib.id in earliest}
    out = []
    for req in rows:
        until = kept_until(req, calendars.get(req.requester_library_id))
        if until is not None:
            out.append(Waiting(req, received_on(req), until, day > until))
    return sorted(out, key=lambda w: (w.kept_until, w.request.id))


def for_patron(waiting: Waiting, text: str) -> bool:
    """Is this book waiting for the patron whose card number (scanned at
    the desk) is ``text``, or whose name or e-mail address contains it?"""
    from .accounts import card_key

    patron = waiting.request.patron
    text = text.strip().lower()
    if patron is None or not text:
        return False
    return (bool(patron.card_number) and card_key(text) == card_key(patron.card_number)
            or text in (patron.name or "").lower() or text in (patron.email or "").lower())


def hold_shelf(session, library_id: int, day: date, q: str | None = None,
               received: date | None = None) -> list[Waiting]:
    """A borrowing library's hold shelf on ``day``; ``q``: one patron's books
    (``for_patron``); ``received``: the books received that day."""
    rows = waiting(session, day, library_id)
    if q and q.strip():
        rows = [w for w in rows if for_patron(w, q)]
    if received is not None:
        rows = [w for w in rows if w.received_on == received]
    return rows


def send_back(session, user, wanted: list[tuple[int, object]], day: date | None = None
              ) -> tuple[list[int], list[tuple[int, str]]]:
    """Books of the hold shelf that go back to their lenders uncollected:
    each (request id, version seen) marked returned and shipped back, in a
    savepoint of its own (``requests_service.act_many``)."""
    from flask_babel import gettext as _

    from . import requests_service

    note = _("Not collected by the patron: sent back from the hold shelf.")
    return requests_service.act_many(session, user, ("returned", "shipped_return"),
                                     [(rid, version, {"note": note}) for rid, version in wanted], day)


def remind_uncollected(session, day: date) -> list[str]:
    """The daily tick's step: a patron whose book waits its last days is
    reminded once; one not collected in time is told it goes back, and the
    borrowing library to send it back."""
    from . import notify
    from .loan_notices import name_of, request_link, title_of

    lines = []
    for w in waiting(session, day):
        req, until = w.request, w.kept_until
        base = {"request_id": req.id, "title": title_of(req), "link": request_link(req), "until": until}
        if w.expired:
            lender = name_of(req.current_lender)
            told = bool(notify.notify_library(
                session, req.requester_library_id, "not_collected", **base,
                received=w.received_on, lender=lender,
                patron=name_of(req.patron), dedupe_key=f"not_collected:{req.id}:{until}"))
            if req.patron is not None and notify.notify(
                    session, req.patron, "pickup_expired", **base, lender=lender,
                    library=name_of(req.requester_library), dedupe_key=f"pickup_expired:{req.id}:{until}"):
                told = True
            if told:
                lines.append(f"request {req.id}: not collected by {until.isoformat()}, library and patron told")
        elif (until - day).days <= REMIND_WITHIN_DAYS and w.received_on < day and req.patron is not None:
            if notify.notify(session, req.patron, "pickup_reminder", **base,
                             library=name_of(req.requester_library),
                             dedupe_key=f"pickup_reminder:{req.id}:{until}") is not None:
                lines.append(f"request {req.id}: pick-up reminder to {req.patron.email}")
    return lines


__all__ = ["REMIND_WITHIN_DAYS", "shelf_days", "received_on", "kept_until", "Waiting", "waiting", "for_patron",
           "hold_shelf", "send_back", "remind_uncollected"]
