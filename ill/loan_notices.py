"""Who hears what when a loan or copy request changes: one hook on the
workflow's ``after_transition`` turns each recorded event into notices; and
the daily tick's reminders of loans (due soon, long overdue)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from . import notify

# Pages of a request, by whoever defines them, first found wins.
REQUEST_PAGES = ("loans.detail",)


def title_of(req) -> str:
    citation = req.citation or {}
    title = citation.get("article_title") if req.service == "copy" else None
    return (title or getattr(req, "title", "") or citation.get("title") or f"#{req.id}")[:200]


def name_of(party) -> str:
    """The name of a library or a patron, for a notice; empty when there is none."""
    return party.name if party else ""


def request_link(req) -> str:
    for endpoint in REQUEST_PAGES:
        if endpoint in current_app.view_functions:
            return notify.site_url(endpoint, request_id=req.id)
    return notify.site_url("notices.inbox")


def copy_link(req) -> str:
    return notify.site_url("delivery.download", request_id=req.id)


def made_for_patron(session, req, librarian) -> None:
    """A librarian made the request for its patron: the patron hears of it,
    with its number and where to follow it."""
    notify.notify(session, req.patron, "request_made_for_you", request_id=req.id, title=title_of(req),
                  by=name_of(librarian), library=name_of(req.requester_library), link=request_link(req),
                  dedupe_key=f"made_for:{req.id}")


def on_event(session, req, event) -> None:
    """The after-transition hook."""
    action, to = event.action, event.to_status
    title = title_of(req)
    base = {"request_id": req.id, "title": title, "link": request_link(req)}
    patron = req.patron

    if action == "message":  # says nothing of the request's status
        _tell_message(session, req, event, base)
        return
    if action == "staff_note":  # a library's note for itself: nobody is told
        return
    if action == "create":
        from .delivery import record_declaration

        record_declaration(session, req)
    if to == "requested" and req.current_lender_id is not None:
        requester = name_of(req.requester_library)
        notify.notify_library(session, req.current_lender_id, "request_new", **base,
                              requester=requester, service=req.service,
                              respond_by=req.answer_due,
                              dedupe_key=f"request_new:{req.id}:{req.round}:{req.current_lender_id}")
    elif action == "renew" and req.current_lender_id is not None:
        notify.notify_library(session, req.current_lender_id, "renewal_asked", **base,
                              requester=name_of(req.requester_library), due_date=req.due_date, wanted=req.renewal_due,
                              dedupe_key=f"renewal_asked:{req.id}:{event.id}")
        if patron is not None and event.actor_id == patron.id:
            # the book is the borrowing library's charge: it hears its patron asked, not only the answer
            notify.notify_library(session, req.requester_library_id, "renewal_asked_by_patron", **base,
                                  patron=name_of(patron), lender=name_of(req.current_lender),
                                  due_date=req.due_date, wanted=req.renewal_due,
                                  dedupe_key=f"renewal_asked_by_patron:{req.id}:{event.id}")
    elif action == "renew_answer":
        approved = bool((event.data or {}).get("approve"))
        answer = {**base, "approved": approved, "due_date": req.due_date, "lender": name_of(req.current_lender),
                  "dedupe_key": f"renewal_answered:{req.id}:{event.id}"}
        notify.notify_library(session, req.requester_library_id, "renewal_answered_library", **answer,
                              patron=name_of(patron))
        if patron is not None:
            notify.notify(session, patron, "renewal_answered", **answer)
    elif action == "report_lost" and req.current_lender_id is not None:
        notify.notify_library(session, req.current_lender_id, "loan_lost", **base,
                              requester=name_of(req.requester_library), reason=req.close_reason,
                              dedupe_key=f"loan_lost:{req.id}:{event.id}")
    elif action == "settle_lost":
        notify.notify_library(session, req.requester_library_id, "loss_settled", **base,
                              lender=name_of(req.current_lender), charge=req.charge, note=event.note,
                              dedupe_key=f"loss_settled:{req.id}")
    elif action in ("cancel", "expire") and req.current_lender_id is not None \
            and event.from_status not in ("new", "unfilled"):
        notify.notify_library(session, req.current_lender_id, "request_cancelled", **base,
                              reason=req.close_reason,
                              needed_by=req.needed_by if action == "expire" else None,
                              dedupe_key=f"request_cancelled:{req.id}")

    if patron is None:
        return
    if to == "received" and event.from_status != "received":
        pickup = name_of(req.requester_library)
        from .pickup import kept_until

        notify.notify(session, patron, "ready_for_pickup", **base, library=pickup, until=kept_until(req),
                      condition=req.condition,
                      dedupe_key=f"ready_for_pickup:{req.id}")
    elif to == "copy_completed":
        from .delivery import copy_for

        copy = copy_for(session, req.id)
        notify.notify(session, patron, "copy_ready", request_id=req.id, title=title,
                      link=copy_link(req),
                      expires=copy.available_until if copy else None,
                      max_downloads=copy.max_downloads if copy else None,
                      dedupe_key=f"copy_ready:{req.id}")
    elif to == "unfilled" and event.from_status != "unfilled":
        notify.notify(session, patron, "unfilled", **base,
                      dedupe_key=f"unfilled:{req.id}:{req.round}")
    elif to == "overdue" and event.from_status != "overdue":
        notify.notify(session, patron, "overdue", **base, due_date=req.due_date,
                      dedupe_key=f"overdue:{req.id}:{req.due_date}")
    elif action == "expire":
        notify.notify(session, patron, "request_expired", **base, needed_by=req.needed_by,
                      dedupe_key=f"request_expired:{req.id}")
    elif action == "recall":
        notify.notify(session, patron, "recalled", **base, due_date=req.due_date,
                      note=event.note, dedupe_key=f"recalled:{req.id}:{event.id}")


def remind_due_soon(session, day, days: int = 3) -> list[str]:
    """The daily tick's step: patrons whose loan is due within ``days`` days
    hear it once per due date."""
    from sqlalchemy import select

    from .models import LoanRequest

    lines = []
    rows = session.scalars(select(LoanRequest).where(
        LoanRequest.service == "loan",
        LoanRequest.status.in_(("loaned", "received", "checked_out")),
        LoanRequest.due_date > day, LoanRequest.due_date <= day + timedelta(days=days))
        .order_by(LoanRequest.id)).all()
    for req in rows:
        if req.patron is None:
            continue
        notice = notify.notify(session, req.patron, "due_soon", title=title_of(req),
                               days=(req.due_date - day).days, due_date=req.due_date,
                               request_id=req.id, link=request_link(req),
                               dedupe_key=f"due_soon:{req.id}:{req.due_date.isoformat()}")
        if notice is not None:
            lines.append(f"request {req.id}: due-soon reminder to {req.patron.email}")
    return lines


def remind_answer_due(session, day) -> list[str]:
    """The daily tick's step: a lender asked for a request whose last day to
    answer is today is reminded once, before the request moves on to the
    next library tomorrow."""
    from sqlalchemy import select

    from .models import LoanRequest

    lines = []
    for req in session.scalars(
            select(LoanRequest)
            .where(LoanRequest.status == "requested", LoanRequest.answer_due == day,
                   LoanRequest.current_lender_id.is_not(None))
            .order_by(LoanRequest.id)):
        told = notify.notify_library(
            session, req.current_lender_id, "answer_due", request_id=req.id, title=title_of(req),
            link=request_link(req), requester=name_of(req.requester_library), respond_by=req.answer_due,
            dedupe_key=f"answer_due:{req.id}:{req.round}:{req.current_lender_id}")
        if told:
            lines.append(f"request {req.id}: its lender reminded to answer today")
    return lines


def remind_long_overdue(session, day) -> list[str]:
    """The daily tick's step: a loan ``LOANS_OVERDUE_REMIND_DAYS`` past its
    due date and not yet shipped back is brought to both libraries, and again
    every as many days: the borrowing library gets it back from the patron
    (or reports it lost), the lender may recall it. A loss reported as long
    ago and not settled is brought to the lender, as often."""
    from sqlalchemy import select

    from .config import setting
    from .models import LoanRequest
    from .overdue import late

    every = int(setting("LOANS_OVERDUE_REMIND_DAYS"))
    lines = []
    rows = session.scalars(select(LoanRequest).where(late(day, every)).order_by(LoanRequest.id)).all()
    for req in rows:
        late = (day - req.due_date).days
        # one reminder per period of ``every`` days since the due date (a renewal starts again)
        key = f"{req.id}:{req.due_date.isoformat()}:{late // every}"
        base = {"request_id": req.id, "title": title_of(req), "link": request_link(req),
                "due_date": req.due_date, "days": late}
        told = notify.notify_library(
            session, req.requester_library_id, "long_overdue", **base,
            lender=name_of(req.current_lender),
            patron=name_of(req.patron), dedupe_key=f"long_overdue:{key}")
        if req.current_lender_id is not None:
            told += notify.notify_library(
                session, req.current_lender_id, "long_overdue_lent", **base,
                requester=name_of(req.requester_library),
                dedupe_key=f"long_overdue_lent:{key}")
        if told:
            lines.append(f"request {req.id}: {late} days overdue, both libraries reminded")
    # a loss the lender has not settled: the lender, once per period since it was reported
    for req in session.scalars(
            select(LoanRequest)
            .where(LoanRequest.status == "lost", LoanRequest.lost_on.is_not(None),
                   LoanRequest.lost_on <= day - timedelta(days=every), LoanRequest.current_lender_id.is_not(None))
            .order_by(LoanRequest.id)):
        waited = (day - req.lost_on).days
        told = notify.notify_library(
            session, req.current_lender_id, "loss_unsettled", request_id=req.id, title=title_of(req),
            link=request_link(req), lost_on=req.lost_on, days=waited,
            requester=name_of(req.requester_library),
            dedupe_key=f"loss_unsettled:{req.id}:{req.lost_on.isoformat()}:{waited // every}")
        if told:
            lines.append(f"request {req.id}: lost {waited} days ago and not settled, the lender reminded")
    return lines


def _tell_message(session, req, event, base: dict) -> None:
    """A message on a request, to whom it was written: a library's librarians
    or the patron."""
    data = event.data or {}
    sender = {"patron": name_of(req.patron),
              "borrowing_library": name_of(req.requester_library),
              "lender": name_of(req.current_lender)}.get(data.get("from"), "")
    said = {**base, "sender": sender, "message": event.note, "dedupe_key": f"request_message:{event.id}"}
    to = data.get("to")
    if to == "patron" and req.patron is not None:
        notify.notify(session, req.patron, "request_message_patron", **said)
    elif to == "lender" and req.current_lender_id is not None:
        notify.notify_library(session, req.current_lender_id, "request_message", **said)
    elif to == "borrowing_library":
        notify.notify_library(session, req.requester_library_id, "request_message",
                              **{**said, "patron": name_of(req.patron)})


def attach() -> None:
    try:
        from . import workflow
    except ImportError:  # the loan workflow is not part of this build
        return
    if on_event not in workflow.after_transition:
        workflow.after_transition.append(on_event)
