"""Search alerts: a reader follows a search, and the daily tick tells them
of the union records the network gains that it finds.

A reader who found little on a subject, an author, or at their library
asks to hear when more comes in, rather than searching again every week.
The tick runs each alert as a search ordered newest first: union record
numbers only grow, so whatever is numbered after the newest one the alert
has seen is new to the network. (A merge or a split makes a new number, so
a union record rebuilt so may be told of once more; a library adding a copy
of an edition the network had already is not news.) The notice goes through
``ill.notify``: in the app and by mail, in the reader's language, as their
preferences say.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ill import notify
from ill.accounts import utcnow
from ill.errors import Conflict, NotFound

from . import search
from .errors import CatalogError
from .models import Cluster, SearchAlert

MAX_PER_USER = 25
TITLES_TOLD = 10  # union records named in one notice; the rest are counted
LOOK_AT = search.MAX_PER_PAGE  # new union records looked at per alert and day
MAX_QUERY = 2000  # characters of a followed search's query string (the column's width)


def canonical(query: search.Query) -> str:
    """The search's query string in one order, without the page, its size
    and the order of results: two ways of asking one search give one."""
    args = query.args()
    for name in ("sort", "page", "per_page"):
        args.pop(name, None)
    pairs = []
    for name in sorted(args):
        values = args[name] if isinstance(args[name], list) else [args[name]]
        pairs += [(name, str(v)) for v in sorted(values, key=str)]
    return urlencode(pairs)


def parse(query_string: str) -> search.Query:
    return search.parse_query(MultiDict(parse_qsl(query_string, keep_blank_values=False)))


def describe(query: search.Query) -> str:
    """A short name for a search, as its alert is listed: its words and filters."""
    parts = [v for v in (query.q, query.title, query.author, query.subject, query.isbn, query.issn,
                         query.author_heading, query.subject_heading) if v]
    if query.year_from or query.year_to:
        parts.append(f"{query.year_from or ''}–{query.year_to or ''}")
    parts += query.libraries + query.languages + query.formats
    if query.available:
        parts.append(_("on the shelf"))
    return " · ".join(parts)[:300]


def _newest(session) -> int:
    return session.scalar(select(func.max(Cluster.id))) or 0


def create(session, user, args) -> tuple[SearchAlert, bool]:
    """The user's alert for the search asked in args (a query string's
    fields); (alert, made now). Asking again for a search followed already
    gives the alert there is. CatalogError names a bad field."""
    query = search.parse_query(args)
    query.sort = search.DEFAULT_SORT
    if query.empty:
        raise CatalogError(_("Search for something first: an alert follows a search."), field="q")
    key = canonical(query)
    if len(key) > MAX_QUERY:
        raise CatalogError(_("This search is too long to follow (%(n)d characters of %(max)d).", n=len(key),
                             max=MAX_QUERY), field="q")
    mine = session.scalars(select(SearchAlert).where(SearchAlert.user_id == user.id)).all()
    for alert in mine:
        if alert.query_string == key:
            return alert, False
    if len(mine) >= MAX_PER_USER:
        raise Conflict(_("You follow %(num)d searches already, as many as one may: stop following one "
                         "first.", num=len(mine)))
    alert = SearchAlert(user_id=user.id, query_string=key, label=describe(query),
                        seen_up_to=_newest(session))
    session.add(alert)
    session.flush()
    return alert, True


def of_user(session, user) -> list[SearchAlert]:
    return list(session.scalars(select(SearchAlert).where(SearchAlert.user_id == user.id)
                                .order_by(SearchAlert.created_at, SearchAlert.id)))


def delete(session, user, alert_id: int) -> None:
    alert = session.get(SearchAlert, alert_id)
    if alert is None or alert.user_id != user.id:  # another's is not theirs to know of
        raise NotFound(_("You follow no search with the number %(id)s.", id=alert_id))
    session.delete(alert)


def news(session, query: search.Query, seen_up_to: int) -> tuple[list[int], bool]:
    """The union records numbered after ``seen_up_to`` that the search
    finds, newest first (at most LOOK_AT), and whether there may be more."""
    newest_first = dataclasses.replace(query, sort="newest", page=1, per_page=LOOK_AT)
    _total, ids, _facets = search.Searcher(session, newest_first).run()
    new = [i for i in ids if i > seen_up_to]
    return new, len(new) == LOOK_AT


def _named(session, ids: list[int]) -> list[dict]:
    """The union records a notice names, in the order given."""
    rows = {r.id: r for r in session.execute(select(Cluster.id, Cluster.title, Cluster.author, Cluster.year)
                                             .where(Cluster.id.in_(ids)))}
    return [{"id": i, "title": rows[i].title, "author": rows[i].author, "year": rows[i].year}
            for i in ids if i in rows]


def run(session, day) -> list[str]:
    """The tick's step: every alert whose search may have news is run, and
    its user told of what it finds. Idempotent: an alert remembers the
    newest union record it has seen, and a notice carries that number."""
    newest = _newest(session)
    alerts = session.scalars(select(SearchAlert).where(SearchAlert.seen_up_to < newest)
                             .order_by(SearchAlert.id)).all()
    told = records = failed = 0
    for alert in alerts:
        if not alert.user.active:
            continue
        try:
            query = parse(alert.query_string)
            found, more = news(session, query, alert.seen_up_to)
        except CatalogError:  # a search that no longer parses (a rule changed): left as it is
            failed += 1
            continue
        if found:
            notify.notify(
                session, alert.user, "search_alert",
                link=notify.site_url("catalog.search", **query.args(sort="newest")),
                dedupe_key=f"search-alert-{alert.id}-{found[0]}",
                search=alert.label, count=len(found), more=more,
                records=_named(session, found[:TITLES_TOLD]),
                record_url=lambda cid: notify.site_url("catalog.record", record_id=cid),
                alerts_url=notify.site_url("catalog_alerts.alerts"))
            alert.told += len(found)
            alert.last_told_at = utcnow()
            told += 1
            records += len(found)
        alert.seen_up_to = newest
    lines = []
    if alerts:
        lines.append(f"{len(alerts)} alerts looked at: {told} told of {records} new union records")
    if failed:
        lines.append(f"{failed} alerts whose search no longer parses were left alone")
    return lines


__all__ = ["create", "of_user", "delete", "news", "run", "canonical", "describe", "parse",
           "MAX_PER_USER", "TITLES_TOLD"]
