"""Books out between libraries that should be back: every loan past its due
date and not yet shipped back, and every loss reported and not yet settled,
for the libraries that chase them and the coordinators who see which
partners keep books too long.

A loan is late from the day after its due date while the book is on the
borrowing library's side (shipped, received, with the patron, overdue,
returned by the patron): once shipped back it is the lender's to check in.
It is long overdue from ``LOANS_OVERDUE_REMIND_DAYS`` days late, when the
daily tick starts reminding both libraries (``loan_notices.remind_long_overdue``).

Only the borrowing library's own staff see the patron's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import clock, workflow

# Where a loaned book is on the borrower's side and has not started back.
NOT_YET_BACK = tuple(status for status in workflow.SHIPPED if status != "shipped_return")


def late(day: date, by_days: int = 1):
    """The clause of a loan late by ``by_days`` days or more on ``day``: its
    due date passed and the book not yet started back. The one rule the
    overdue page, the long-overdue reminders and a library's block on
    patrons who keep books read."""
    from datetime import timedelta

    from sqlalchemy import and_

    from .models import LoanRequest

    return and_(LoanRequest.service == "loan", LoanRequest.status.in_(NOT_YET_BACK),
                LoanRequest.due_date <= day - timedelta(days=by_days))


@dataclass(frozen=True)
class LateLoan:
    """One book that should be back, as a viewer may see it."""

    request_id: int
    title: str
    borrower_id: int
    lender_id: int | None
    status: str
    due_date: date | None
    days_late: int  # past the due date; for a loss, since it was reported
    long_overdue: bool
    recalled_on: date | None
    renewal_asked: date | None
    lost_on: date | None
    patron: str | None  # for the borrowing library's staff only

    def to_dict(self, codes: dict[int, str]) -> dict:
        return {
            "request_id": self.request_id, "title": self.title,
            "borrower": codes.get(self.borrower_id), "lender": codes.get(self.lender_id),
            "status": self.status, "due_date": clock.iso(self.due_date), "days_late": self.days_late,
            "long_overdue": self.long_overdue, "recalled_on": clock.iso(self.recalled_on),
            "renewal_asked": clock.iso(self.renewal_asked), "lost_on": clock.iso(self.lost_on),
            "patron": self.patron,
        }


def late_loans(session, day: date, library_ids: list[int] | None, viewer_library_id: int | None
               ) -> tuple[list[LateLoan], list[LateLoan]]:
    """(loans past due and not back, the latest first; losses not settled,
    the oldest first) where one of ``library_ids`` borrowed or lent (None:
    the whole network). ``viewer_library_id``: whose staff is looking (the
    patron's name is theirs to see when they borrowed)."""
    from sqlalchemy import or_, select
    from sqlalchemy.orm import selectinload

    from .config import setting
    from .loan_notices import title_of
    from .models import LoanRequest

    long_after = int(setting("LOANS_OVERDUE_REMIND_DAYS"))
    mine = []
    if library_ids is not None:
        mine.append(or_(LoanRequest.requester_library_id.in_(library_ids),
                        LoanRequest.current_lender_id.in_(library_ids)))
    base = (select(LoanRequest).options(selectinload(LoanRequest.patron), selectinload(LoanRequest.cluster))
            .where(LoanRequest.service == "loan", *mine))
    overdue = session.scalars(base.where(late(day)).order_by(LoanRequest.due_date, LoanRequest.id)).all()
    lost = session.scalars(base.where(LoanRequest.status == "lost")
                           .order_by(LoanRequest.lost_on, LoanRequest.id)).all()

    def row(req, days: int) -> LateLoan:
        own = viewer_library_id is not None and viewer_library_id == req.requester_library_id
        return LateLoan(
            request_id=req.id, title=title_of(req), borrower_id=req.requester_library_id,
            lender_id=req.current_lender_id, status=req.status, due_date=req.due_date, days_late=days,
            long_overdue=req.status != "lost" and days >= long_after, recalled_on=req.recalled_on,
            renewal_asked=req.renewal_due, lost_on=req.lost_on,
            patron=(req.patron.name if own and req.patron else None))

    return ([row(r, (day - r.due_date).days) for r in overdue],
            [row(r, (day - r.lost_on).days if r.lost_on else 0) for r in lost])


@dataclass
class Tally:
    """One library's books that should be back: those it borrowed, those it lent."""

    borrowed_late: int = 0
    borrowed_long: int = 0
    borrowed_lost: int = 0
    lent_late: int = 0
    lent_long: int = 0
    lent_lost: int = 0


def tally(late: list[LateLoan], lost: list[LateLoan]) -> dict[int, Tally]:
    """Per library, from the lists ``late_loans`` gives."""
    out: dict[int, Tally] = {}
    for loan in late:
        b = out.setdefault(loan.borrower_id, Tally())
        b.borrowed_late += 1
        b.borrowed_long += loan.long_overdue
        if loan.lender_id is not None:
            lender = out.setdefault(loan.lender_id, Tally())
            lender.lent_late += 1
            lender.lent_long += loan.long_overdue
    for loan in lost:
        out.setdefault(loan.borrower_id, Tally()).borrowed_lost += 1
        if loan.lender_id is not None:
            out.setdefault(loan.lender_id, Tally()).lent_lost += 1
    return out


__all__ = ["NOT_YET_BACK", "late", "LateLoan", "late_loans", "Tally", "tally"]
