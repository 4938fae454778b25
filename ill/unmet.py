"""What the network could not supply: the titles patrons asked for in a
period that no library lent or copied, for shared acquisition (a form of
cooperation the agreements name) and each library's own buying.

A request counts when it became ``unfilled`` (no lender left, or none could
be asked at all) and was never filled afterwards (a retry that found a
lender takes it out). Requests for one union record are counted together;
citation requests not matched to a record, by their title and author as
typed (folded). For each title: how many requests, which libraries asked,
when last, how many libraries hold it in the catalogue now, and why it was
not supplied (each lender's answer, or why a library was left out).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from . import clock
from .facts import FILLED_STATES


@dataclass
class Unmet:
    key: str  # "record:<id>" or "citation:<folded title>|<folded author>"
    record_id: int | None
    title: str
    author: str = ""
    year: int | None = None
    isbns: list[str] = field(default_factory=list)
    requests: int = 0
    libraries: Counter = field(default_factory=Counter)  # borrowing library id -> requests
    last_asked: date | None = None
    holders: int = 0  # libraries holding the union record now
    reasons: Counter = field(default_factory=Counter)  # ("declined", why) / ("no_answer", "") / ("excluded", code)

    def to_dict(self, codes: dict[int, str], say) -> dict:
        return {"record_id": self.record_id, "title": self.title, "author": self.author, "year": self.year,
                "isbns": self.isbns, "requests": self.requests,
                "libraries": {codes.get(pid, str(pid)): n for pid, n in sorted(self.libraries.items(),
                                                                               key=lambda kv: codes.get(kv[0], ""))},
                "last_asked": clock.iso(self.last_asked), "holders": self.holders,
                "reasons": [{"reason": say(r), "count": n} for r, n in self.reasons.most_common()]}


def _fold(text: str) -> str:
    from union_catalog.searchtext import fold

    return " ".join(fold(text or "").split())


def unmet(session, since: date, until: date, library_ids: list[int] | None) -> list[Unmet]:
    """The titles not supplied to requests made from ``since`` to ``until``
    by ``library_ids`` (None: every library), most asked first."""
    from sqlalchemy import func, select

    from union_catalog.models import Cluster, SourceRecord

    from .models import LoanRequest, RequestEvent, RotaEntry

    went_unfilled = select(RequestEvent.id).where(RequestEvent.request_id == LoanRequest.id,
                                                  RequestEvent.to_status == "unfilled").exists()
    filled = select(RequestEvent.id).where(RequestEvent.request_id == LoanRequest.id,
                                           RequestEvent.to_status.in_(FILLED_STATES)).exists()
    where = [LoanRequest.created_on >= since, LoanRequest.created_on <= until, went_unfilled, ~filled]
    if library_ids is not None:
        where.append(LoanRequest.requester_library_id.in_(library_ids))
    rows = session.execute(select(LoanRequest.id, LoanRequest.cluster_id, LoanRequest.citation,
                                  LoanRequest.requester_library_id, LoanRequest.created_on).where(*where)).all()
    if not rows:
        return []
    cluster_ids = {r.cluster_id for r in rows if r.cluster_id is not None}
    clusters = {c.id: c for c in session.scalars(select(Cluster).where(Cluster.id.in_(cluster_ids)))} \
        if cluster_ids else {}
    holders = dict(session.execute(
        select(SourceRecord.cluster_id, func.count(func.distinct(SourceRecord.partner_id)))
        .where(SourceRecord.cluster_id.in_(cluster_ids), SourceRecord.withdrawn_at.is_(None))
        .group_by(SourceRecord.cluster_id)).all()) if cluster_ids else {}
    by_request: dict[int, Unmet] = {}
    found: dict[str, Unmet] = {}
    for rid, cluster_id, citation, library_id, created in rows:
        citation = citation or {}
        cluster = clusters.get(cluster_id)
        if cluster is not None:
            key = f"record:{cluster.id}"
            item = found.get(key) or Unmet(key, cluster.id, cluster.title, cluster.author, cluster.year,
                                           list(cluster.isbns or []), holders=holders.get(cluster.id, 0))
        else:
            title, author = str(citation.get("title") or ""), str(citation.get("author") or "")
            key = f"citation:{_fold(title)}|{_fold(author)}"
            item = found.get(key) or Unmet(key, None, title, author)
        found[key] = item
        item.requests += 1
        item.libraries[library_id] += 1
        item.last_asked = max(item.last_asked or created, created)
        by_request[rid] = item
    for rid, outcome, detail, code in session.execute(
            select(RotaEntry.request_id, RotaEntry.outcome, RotaEntry.outcome_detail, RotaEntry.reason_code)
            .where(RotaEntry.request_id.in_(by_request))):
        if outcome == "unfilled":
            by_request[rid].reasons["declined", detail or "other"] += 1
        elif outcome == "no_answer":
            by_request[rid].reasons["no_answer", ""] += 1
        elif outcome == "refused":
            by_request[rid].reasons["refused", ""] += 1
        elif outcome == "closed":
            by_request[rid].reasons["excluded", "closed"] += 1
        elif outcome == "passed_over":
            by_request[rid].reasons["excluded", detail] += 1
        elif outcome == "excluded" and code not in ("own_library", "rota_full"):
            by_request[rid].reasons["excluded", code] += 1
    for item in found.values():
        if not item.reasons:
            item.reasons["nobody", ""] += item.requests
    return sorted(found.values(), key=lambda u: (-u.requests, -len(u.libraries), u.title.lower(), u.key))


def say_reason(reason: tuple[str, str]) -> str:
    """A reason of ``Unmet.reasons`` in the reader's language."""
    from flask_babel import gettext as _

    from . import routing
    from .workflow import UNFILLED_LABELS

    kind, code = reason
    if kind == "declined":
        return _("a lender said: %(why)s", why=str(UNFILLED_LABELS.get(code, code)))
    if kind == "no_answer":
        return _("a lender did not answer in time")
    if kind == "refused":
        return _("a lender's own system refused the request")
    if kind == "excluded":
        # counted over many requests: the reason without the day or volume of each
        generic = {"paused": _("lending paused"), "closed": _("closed"),
                   "coverage": _("holdings do not include the volume or year asked")}
        why = generic.get(code) or routing.describe(code, {})
        return _("a holding library could not be asked: %(why)s", why=why)
    return _("no library holds it under an agreement")
