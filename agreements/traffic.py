"""Requests between partner libraries, counted for the coordinators' dashboard.

The counting is a plain function over plain rows; ``load`` reads them from
the loan workflow's tables (``loan_requests``: who asked; ``rota_entries``:
which lender was asked and what came of it). Agreements never import the
loan workflow (it imports us), so the tables are looked up by name in the
shared metadata; while they are absent there is no traffic to show and
``load`` answers None (the dashboard says so rather than showing zeros).

Per library:
- ``sent``: requests it made for its patrons;
- ``received``: times it was asked to lend (a rota entry that was asked);
- ``filled``: of those, the ones it supplied;
- ``unfilled``: of those, the ones it answered "unfilled", did not answer in
  time, or whose condition the borrower rejected.
Only requests between libraries sharing an agreement count when ``pairs`` is given.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

FILLED = frozenset({"supplied"})
UNFILLED = frozenset({"unfilled", "no_answer", "condition_rejected", "refused"})
# "closed": asked, then passed on at once because the library had closed
NOT_ASKED = frozenset({"waiting", "not_asked", "excluded", "closed", "passed_over"})


@dataclass
class Traffic:
    sent: int = 0
    received: int = 0
    filled: int = 0
    unfilled: int = 0


# (requester_id, lender_id or None, outcome or None): a request with no
# lender asked yet is (requester, None, None).
Row = tuple[int, int | None, str | None]


def tally(rows: Iterable[Row], pairs: set[frozenset[int]] | None = None) -> dict[int, Traffic]:
    """Counts per library. ``rows``: one per request (lender None) and one per
    lender asked; ``pairs``: unordered pairs of library ids sharing an agreement."""
    out: dict[int, Traffic] = {}
    for requester, lender, outcome in rows:
        if lender is None:
            out.setdefault(requester, Traffic()).sent += 1
            continue
        if outcome in NOT_ASKED:
            continue
        if pairs is not None and frozenset((requester, lender)) not in pairs:
            continue
        _asked(out.setdefault(lender, Traffic()), outcome)
    return out


def _asked(t: Traffic, outcome: str | None) -> None:
    """A lender asked once, and what came of it."""
    t.received += 1
    if outcome in FILLED:
        t.filled += 1
    elif outcome in UNFILLED:
        t.unfilled += 1


def _tables():
    from ill.extensions import db

    tables = db.metadata.tables
    if "loan_requests" not in tables or "rota_entries" not in tables:
        return None
    return tables["loan_requests"], tables["rota_entries"]


def load(session, since: date | None = None, until: date | None = None,
         among: Collection[int] | None = None) -> list[Row] | None:
    """Rows for ``tally`` from the loan tables, requests made between
    ``since`` and ``until`` (inclusive), by ``among`` libraries only (and,
    for the lenders asked, of them) when given; None while there are no
    loan tables."""
    found = _tables()
    if found is None:
        return None
    requests, rota = found
    where = []
    if since is not None:
        where.append(requests.c.created_on >= since)
    if until is not None:
        where.append(requests.c.created_on <= until)
    if among is not None:
        where.append(requests.c.requester_library_id.in_(among))
    rows: list[Row] = [
        (r, None, None) for (r,) in session.execute(select(requests.c.requester_library_id).where(*where))
    ]
    asked = select(requests.c.requester_library_id, rota.c.partner_id, rota.c.outcome).join(
        rota, rota.c.request_id == requests.c.id
    )
    if among is not None:
        asked = asked.where(rota.c.partner_id.in_(among))
    rows.extend(tuple(r) for r in session.execute(asked.where(*where)))
    return rows


def between(rows: Iterable[Row], parties: set[int]) -> dict[tuple[int, int], Traffic]:
    """Per (borrower, lender), both among ``parties``: times the lender was
    asked (``received``), supplied (``filled``) and did not (``unfilled``)."""
    out: dict[tuple[int, int], Traffic] = {}
    for requester, lender, outcome in rows:
        if lender is None or outcome in NOT_ASKED or requester == lender:
            continue
        if requester not in parties or lender not in parties:
            continue
        _asked(out.setdefault((requester, lender), Traffic()), outcome)
    return out


def usage(session, agreement, today: date) -> dict | None:
    """How an agreement was used: requests between its parties made while it
    ran (from its start to its last day, or today), per borrower and lender.
    None while there are no loan tables."""
    from .status import last_day

    since = agreement.start_date
    until = min(d for d in (today, last_day(agreement.end_date, agreement.terminated_on)) if d is not None)
    parties = {p.partner_id: p.partner for p in agreement.parties}
    rows = load(session, since, until, among=set(parties))
    if rows is None:
        return None
    pairs = between(rows, set(parties))
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat(),
        "pairs": [
            {"borrower": parties[b].code, "lender": parties[lend].code,
             "asked": t.received, "supplied": t.filled, "not_supplied": t.unfilled}
            for (b, lend), t in sorted(pairs.items(), key=lambda kv: (parties[kv[0][0]].code, parties[kv[0][1]].code))
        ],
    }
