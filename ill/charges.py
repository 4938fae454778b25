"""What libraries owe one another for what they supplied: the statement of
charges between each borrowing library and each lender over a period, for
the accounts settled between them.

A loan costs what its agreement set on the day it shipped
(``LoanRequest.loan_cost``, kept as it shipped); a copy what its pages cost
(``DeliveredCopy.cost``); a lost book what its lender asked in settling the
loss (``LoanRequest.charge``: a replacement copy or an amount, in words), so
losses are listed, not added up. Something supplied with no cost agreed
counts, and costs nothing.

The arithmetic is a plain function over plain rows (``summarise``); the
database part only gathers the rows (``statement``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass
class Account:
    """What one lender supplied one borrowing library in the period."""

    borrower_id: int
    lender_id: int
    loans: int = 0
    loans_cost: Decimal = ZERO
    copies: int = 0
    pages: int = 0
    copies_cost: Decimal = ZERO
    losses: list[tuple[int, str]] = field(default_factory=list)  # (request, what the lender asks)

    @property
    def total(self) -> Decimal:
        """Loans and copies; a loss's charge is in words and stays apart."""
        return self.loans_cost + self.copies_cost

    def to_dict(self, codes: dict[int, str]) -> dict:
        return {
            "borrower": codes.get(self.borrower_id), "lender": codes.get(self.lender_id),
            "loans": self.loans, "loans_cost": str(self.loans_cost),
            "copies": self.copies, "pages": self.pages, "copies_cost": str(self.copies_cost),
            "total": str(self.total),
            "losses": [{"request_id": rid, "charge": charge} for rid, charge in self.losses],
        }


def summarise(loans: Iterable[tuple[int, int, Decimal | None]],
              copies: Iterable[tuple[int, int, int, Decimal | None]],
              losses: Iterable[tuple[int, int, int, str]]) -> list[Account]:
    """Accounts per (borrower, lender) from the period's rows: loans shipped
    (borrower, lender, cost), copies delivered (borrower, lender, pages,
    cost), losses settled (borrower, lender, request, charge)."""
    out: dict[tuple[int, int], Account] = {}

    def account(borrower: int, lender: int) -> Account:
        key = (borrower, lender)
        if key not in out:
            out[key] = Account(borrower, lender)
        return out[key]

    for borrower, lender, cost in loans:
        a = account(borrower, lender)
        a.loans += 1
        a.loans_cost += cost or ZERO
    for borrower, lender, pages, cost in copies:
        a = account(borrower, lender)
        a.copies += 1
        a.pages += pages or 0
        a.copies_cost += cost or ZERO
    for borrower, lender, request_id, charge in losses:
        account(borrower, lender).losses.append((request_id, charge or ""))
    return [out[k] for k in sorted(out)]


def statement(session, since: date, until: date, library_ids: list[int] | None = None) -> list[Account]:
    """The accounts of the period (``since`` to ``until`` inclusive, on the
    network's calendar): loans by the day they shipped, copies by the day
    they were delivered, losses by the day they were settled. ``library_ids``:
    only accounts where one of them is borrower or lender (None: all)."""
    from sqlalchemy import or_, select

    from . import clock
    from .delivery_models import DeliveredCopy
    from .models import LoanRequest, RequestEvent

    start, end = clock.start_of(since), clock.start_of(until + timedelta(days=1))
    mine = []
    if library_ids is not None:
        mine.append(or_(LoanRequest.requester_library_id.in_(library_ids),
                        LoanRequest.current_lender_id.in_(library_ids)))
    pair = (LoanRequest.requester_library_id, LoanRequest.current_lender_id)

    def events(action):
        return (select(*pair).join(RequestEvent, RequestEvent.request_id == LoanRequest.id)
                .where(RequestEvent.action == action, RequestEvent.at >= start, RequestEvent.at < end, *mine))

    loans = session.execute(events("loaned").add_columns(LoanRequest.loan_cost)).all()
    losses = session.execute(events("settle_lost").add_columns(LoanRequest.id, LoanRequest.charge)).all()
    copies = session.execute(
        select(*pair, DeliveredCopy.pages, DeliveredCopy.cost)
        .join(DeliveredCopy, DeliveredCopy.request_id == LoanRequest.id)
        .where(DeliveredCopy.uploaded_at >= start, DeliveredCopy.uploaded_at < end, *mine)).all()
    return summarise(loans, copies, losses)
