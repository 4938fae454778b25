"""The daily tick: every package's time-driven work, in one place and one order.
Each step commits on its own so that one failing step does not undo the others,
and each is idempotent for a given day (state already changed is not changed
again; notices carry a dedupe key per request and day or due date). Mail goes
out at the end, in one batch, so the tick can say what it sent."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

Step = Callable[[object, date], list[str]]

def steps() -> list[tuple[str, Step]]:
    """The steps of the tick, in the order they run. Loans first (a request
    no longer needed is withdrawn before its lender is passed over; a lender
    passed over today is asked today; an overdue loan is marked before the
    reminders look at loans), then what tells people, mail last."""
    from agreements import alerts
    from union_catalog import alerts as catalog_alerts
    from union_catalog import jobs as catalog_jobs

    from . import delivery, iso18626, loan_notices, notify, people, pickup, requests_service

    return [
        ("catalogue imports", catalog_jobs.tick),
        ("requests past the day needed", requests_service.tick_past_needed),
        ("lenders closed today", requests_service.tick_closed_lenders),
        ("lenders past their deadline", requests_service.tick_unanswered),
        ("lenders' last day to answer", loan_notices.remind_answer_due),
        ("overdue loans", requests_service.tick_overdue),
        ("due-soon reminders", loan_notices.remind_due_soon),
        ("long-overdue loans", loan_notices.remind_long_overdue),
        ("books not collected", pickup.remind_uncollected),
        ("expired copies", delivery.expire_copies),
        ("agreements", alerts.run),
        ("search alerts", catalog_alerts.run),
        ("patrons' data past keeping", people.erase_expired),
        ("mail digests", notify.send_digests),
        ("ISO 18626 messages", iso18626.tick),
        ("mail", send_mail),
    ]


def send_mail(session, day: date) -> list[str]:
    from .notify import flush_outbox

    return flush_outbox().lines()


def run(session, day: date) -> list[str]:
    lines = [f"tick for {day.isoformat()}"]
    session.info["ill_defer_mail"] = True
    try:
        for name, step in steps():
            try:
                done = step(session, day)
                session.commit()
            except Exception as exc:  # one failing step must not stop the others
                session.rollback()
                lines.append(f"{name}: FAILED: {exc}")
                continue
            if done:
                lines.extend(f"{name}: {line}" for line in done)
            else:
                lines.append(f"{name}: nothing to do")
    finally:
        session.info.pop("ill_defer_mail", None)
    return lines
