"""Requests between partner libraries, counted for the coordinators' dashboard.

The counting is a plain function over plain rows ``(requester_id,
lender_id, status)``; ``load_rows`` reads them from the loan requests table
(``ill.models.LoanRequest``: ``requester_library_id``, ``current_lender_id``,
``status``, ``created_at``). Agreements never import the loan workflow, so the
table is looked up in the shared metadata; until the loans package defines
it there is no traffic to show and ``load_rows`` answers None (the dashboard
says so rather than showing zeros).

Per library:
- ``sent``: requests its patrons made (it is the requester);
- ``received``: requests it was asked to lend (it is the current lender);
- ``filled``: received requests it supplied (shipped, copied, or later);
- ``unfilled``: received requests that ended unfilled with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

FILLED = frozenset(
    {
        "loaned",
        "received",
        "checked_out",
        "returned",
        "shipped_return",
        "completed",
        "copy_completed",
        "overdue",
    }
)
UNFILLED = frozenset({"unfilled"})
TABLE = "loan_requests"


@dataclass
class Traffic:
    sent: int = 0
    received: int = 0
    filled: int = 0
    unfilled: int = 0


Row = tuple[int | None, int | None, str]


def tally(rows: Iterable[Row], pairs: set[frozenset[int]] | None = None) -> dict[int, Traffic]:
    """Counts per library. ``pairs``: only requests between libraries that
    share an agreement (unordered pairs of ids); None counts every request."""
    out: dict[int, Traffic] = {}
    for requester, lender, status in rows:
        if pairs is not None and frozenset((requester, lender)) not in pairs:
            continue
        if requester is not None:
            out.setdefault(requester, Traffic()).sent += 1
        if lender is not None:
            t = out.setdefault(lender, Traffic())
            t.received += 1
            if status in FILLED:
                t.filled += 1
            elif status in UNFILLED:
                t.unfilled += 1
    return out


def loan_table(session):
    """The loan requests table, or None while the loans package is not installed."""
    from ill.extensions import db

    return db.metadata.tables.get(TABLE)


def load_rows(session, since: date | None = None, until: date | None = None) -> list[Row] | None:
    table = loan_table(session)
    if table is None:
        return None
    cols = table.c
    query = select(cols.requester_library_id, cols.current_lender_id, cols.status)
    if since is not None:
        query = query.where(cols.created_at >= datetime.combine(since, time.min))
    if until is not None:
        query = query.where(cols.created_at <= datetime.combine(until, time.max))
    return [tuple(r) for r in session.execute(query)]
