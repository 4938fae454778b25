"""Services of the loan workflow: making a request, routing it, firing
actions, the queues, the tick's steps, and the request as JSON.

Services take a session and never commit; the view, the API or the CLI owns
the one commit. Every status change goes through ``ill.workflow.fire`` and
writes one ``RequestEvent`` in the same transaction; the request's version
counter (``version_id_col``) makes a second, stale answer fail with 409.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import accounts, clock, paging, patrons, pickup, routing, workflow
from .accounts import Role, User
from .errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError
from .models import TERMINAL_STATES, LoanRequest, RequestEvent, RotaEntry

SERVICES = ("loan", "copy")
CITATION_FIELDS = {
    "title": 500,
    "author": 300,
    "article_title": 500,
    "pages": 50,
    "volume": 30,
    "issue": 30,
    "year": 10,
    "publisher": 300,
    "edition": 100,
    "isbn": 30,
    "issn": 30,
}
DEFAULT_LOAN_DAYS = 28


# --- who is asking ------------------------------------------------------------


def roles_for(user: User | None, req: LoanRequest) -> frozenset[str]:
    """The parts this user plays in this request: patron, borrower, lender."""
    if user is None:
        return frozenset({workflow.SYSTEM})
    roles = set()
    if req.patron_id is not None and user.id == req.patron_id and user.role == Role.PATRON:
        roles.add(workflow.PATRON)
    if user.role == Role.LIBRARIAN and user.library_id is not None:
        if user.library_id == req.requester_library_id:
            roles.add(workflow.BORROWER)
        if req.current_lender_id is not None and user.library_id == req.current_lender_id:
            roles.add(workflow.LENDER)
    return frozenset(roles)


def can_see(user: User, req: LoanRequest) -> bool:
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    if user.role == Role.PATRON:
        return req.patron_id == user.id
    if user.role == Role.LIBRARIAN and user.library_id is not None:
        if user.library_id in (req.requester_library_id, req.current_lender_id):
            return True
        # A past lender keeps sight of what it was asked.
        return any(e.partner_id == user.library_id and e.asked_on is not None for e in req.rota)
    return False


def can_see_patron(user: User, req: LoanRequest) -> bool:
    """Who the patron is stays with the borrowing library (and the network's
    coordinators): a lender needs the library, not the reader."""
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    if user.role == Role.PATRON:
        return req.patron_id == user.id
    return user.role == Role.LIBRARIAN and user.library_id == req.requester_library_id


def may_print_band(user: User, req: LoanRequest) -> bool:
    """A book band is the borrowing library's, for a loan: its librarians
    print it for the book they lend on to their patron."""
    return (user.role == Role.LIBRARIAN and user.library_id is not None
            and user.library_id == req.requester_library_id and req.service == "loan")


def parcel_of(user: User, req: LoanRequest):
    """(sender, recipient) of the parcel ``user``'s library sends for a loan:
    the lender's outbound one, the borrowing library's return; None for
    anyone else, and for a copy (it goes by file)."""
    if user.role != Role.LIBRARIAN or user.library_id is None or req.service != "loan":
        return None
    if user.library_id == req.current_lender_id:
        return req.current_lender, req.requester_library
    if user.library_id == req.requester_library_id and req.current_lender is not None:
        return req.requester_library, req.current_lender
    return None


def get_visible(session, user: User, request_id: int) -> LoanRequest:
    req = session.get(LoanRequest, request_id)
    if req is None or not can_see(user, req):
        # The same answer whether it does not exist or is not yours: ids are not secrets,
        # but other libraries' requests are.
        raise NotFound(_("No request %(id)s among yours.", id=request_id))
    return req


def actor_label(user: User | None) -> str:
    if user is None:
        return "system"
    return f"{user.name} ({user.library.code})" if user.library is not None else user.name


def _config(name: str, default):
    return current_app.config.get(name, default) if has_app_context() else default


# --- agreements -----------------------------------------------------------------


def agreement_between(session, borrower_id: int, lender_id: int, service: str, day: date):
    try:
        from agreements.queries import agreement_between as query
    except ImportError:
        return None
    return query(session, borrower_id, lender_id, service, day)


# --- what the workflow's effects need from the database --------------------------


class Effects:
    """``ctx.service`` for ``workflow.fire``: moving along the rota, agreement terms."""

    def __init__(self, session):
        self.session = session

    def _partner(self, partner_id: int):
        from agreements.models import Partner

        return self.session.get(Partner, partner_id)

    # rota ---------------------------------------------------------------------
    def _ask(self, req: LoanRequest, entry: RotaEntry, day: date) -> None:
        entry.outcome = "asked"
        entry.asked_on = day
        entry.answer_due = answer_deadline(self.session, entry)
        req.current_lender = self._partner(entry.partner_id)
        req.answer_due = entry.answer_due
        req.condition = ""
        req.cost = ""

    def _next(self, req: LoanRequest, day: date, passed_over: list | None = None) -> str:
        """Ask the next library of the round's rota. passed_over: weigh each
        again as its turn comes (a list to name those passed over in): one
        whose agreement has lapsed, whose lending is paused or which is
        closed since the rota was made, which its own rules now rule out
        (as many requests waiting on it as it takes), or whose copies can no
        longer serve (all on loan now, gone from the catalogue) is passed
        over (outcome ``passed_over``, the reason's code as its detail) for
        the next."""
        waiting = sorted((e for e in req.rota if e.round == req.round and e.rank is not None
                          and e.outcome == "waiting"), key=lambda e: e.rank)
        copies = routing.copies_now(self.session, req.cluster_id, day) if req.cluster_id is not None else None
        wanted = _wanted(req) if passed_over is not None and waiting else None
        for entry in waiting:
            if passed_over is not None:
                partner = self._partner(entry.partner_id)
                facts = routing.lender_now(self.session, req.requester_library_id, partner, req.service, day)
                why = routing.why_not_now(req.requester_library_id, facts, wanted, day) \
                    or (copies(partner.id, wanted) if copies is not None else None)
                if why is not None:
                    entry.outcome, entry.outcome_detail = "passed_over", why[0]
                    entry.reason_args = {**(entry.reason_args or {}), "passed_over": why[1]}
                    passed_over.append({"library": partner.code, "why": why[0]})
                    continue
            self._ask(req, entry, day)
            return "requested"
        req.current_lender = None
        req.answer_due = None
        return "unfilled"

    def advance(self, ctx: workflow.Context, outcome: str, detail: str = "") -> str:
        req = ctx.request
        entry = req.current_entry()
        if entry is not None:
            entry.outcome = outcome
            entry.outcome_detail = detail
            entry.answered_on = ctx.day
        passed_over: list[dict] = []
        target = self._next(req, ctx.day, passed_over)
        if passed_over:
            ctx.data["passed_over"] = passed_over
        if target == "requested":
            ctx.data["next_lender"] = req.current_lender.code
        return target

    def route(self, ctx: workflow.Context) -> str:
        """A new round of routing: for a reviewed request, and for ``retry``."""
        req = ctx.request
        record_id = ctx.params.get("record_id")
        lender_code = str(ctx.params.get("lender") or "").strip()
        if record_id not in (None, ""):
            req.cluster_id = _cluster(self.session, record_id).id
        for entry in req.rota:
            if entry.outcome == "waiting":
                entry.outcome = "not_asked"
        req.round = (req.round or 0) + 1
        if lender_code:
            placements = [self._chosen_lender(req, lender_code, ctx.day)]
            excluded = []
        elif req.cluster_id is not None:
            wanted = _wanted(req)
            plan = routing.plan_for_cluster(self.session, req.requester_library_id, req.cluster_id, wanted, ctx.day)
            placements, excluded = plan.rota, plan.excluded
        else:
            raise BadRequest(
                _(
                    "This request is not matched to a catalogue record: give record_id "
                    "(a union record) or lender (a partner code) to send it."
                ),
                field="record_id",
            )
        for p in placements + excluded:
            args = dict(p.args)
            req.rota.append(
                RotaEntry(
                    round=req.round,
                    partner_id=p.partner_id,
                    rank=p.rank,
                    reason_code=p.code_reason,
                    reason_args=args,
                    outcome="waiting" if p.rank is not None else "excluded",
                )
            )
        ctx.data["round"] = req.round
        ctx.data["rota"] = [p.code for p in placements]
        target = self._next(req, ctx.day)
        if target == "unfilled":
            ctx.data["why"] = "no lender can be asked"
        return target

    def _chosen_lender(self, req: LoanRequest, code: str, day: date) -> routing.Placement:
        from agreements.models import Partner

        partner = self.session.scalar(select(Partner).where(Partner.code == code.upper()))
        if partner is None:
            raise BadRequest(_("No partner library with the code %(code)s.", code=code), field="lender")
        if partner.id == req.requester_library_id:
            raise BadRequest(_("A library cannot borrow from itself."), field="lender")
        # the rota's own rules: a live agreement, lending not paused, not
        # closed, and the library's own lending rules
        facts = routing.lender_now(self.session, req.requester_library_id, partner, req.service, day)
        barred = routing.why_not_now(req.requester_library_id, facts, _wanted(req), day)
        if barred is not None:
            raise Conflict(_("%(code)s cannot be asked: %(reason)s.", code=partner.code,
                             reason=routing.describe(*barred)))
        return routing.Placement(
            partner.id, partner.code, 1, "chosen_by_librarian", {"response_days": facts.link.response_days}
        )

    def supplied(self, ctx: workflow.Context) -> None:
        entry = ctx.request.current_entry()
        if entry is not None:
            entry.outcome = "supplied"
            entry.answered_on = ctx.day
        ctx.request.answer_due = None

    def price_loan(self, ctx: workflow.Context) -> None:
        """The loan's cost, as the agreement sets it on the day it ships (kept:
        a later change of terms does not change what was agreed then)."""
        req = ctx.request
        link = agreement_between(self.session, req.requester_library_id, req.current_lender_id, "loan", ctx.day)
        cost = getattr(link, "cost_per_loan", None)
        req.loan_cost = Decimal(str(cost)) if cost is not None else None
        if req.loan_cost is not None:
            ctx.data["cost"] = str(req.loan_cost)

    # the copy sent --------------------------------------------------------------
    def copy_status(self, ctx: workflow.Context, status: str) -> None:
        """The union catalogue follows the lender's copy that was sent (see
        ``workflow._copy_now``). A barcode the lender's copies of the record
        do not have is refused as it ships, where it is typed; later, a copy
        gone from the catalogue (a re-import withdrew it) is let be."""
        from union_catalog import statuses

        req = ctx.request
        if req.cluster_id is None or req.current_lender_id is None:
            return  # a citation request sent to a library by hand: no record to follow
        found = statuses.set_copy_status(self.session, req.current_lender_id, req.cluster_id,
                                         req.item_barcode, status)
        if not found and status == "on_loan":
            raise BadRequest(
                _("Your library lists no copy of this record with the barcode '%(barcode)s'.",
                  barcode=req.item_barcode),
                field="barcode",
            )

    def withdraw(self, ctx: workflow.Context) -> None:
        req = ctx.request
        for entry in req.rota:
            if entry.round == req.round and entry.outcome == "asked":
                entry.outcome = "cancelled"
                entry.answered_on = ctx.day
            elif entry.outcome == "waiting":
                entry.outcome = "not_asked"
        req.answer_due = None

    def _calendar(self, library_id: int, day: date):
        from agreements import calendar

        return calendar.for_library(self.session, library_id, day)

    # agreement terms -------------------------------------------------------------
    def _loan_period(self, ctx: workflow.Context) -> timedelta:
        req = ctx.request
        link = agreement_between(self.session, req.requester_library_id, req.current_lender_id, "loan", ctx.day)
        days = getattr(link, "loan_period_days", None) or _config("LOANS_DEFAULT_LOAN_DAYS", DEFAULT_LOAN_DAYS)
        return timedelta(days=int(days))

    def default_due_date(self, ctx: workflow.Context) -> date:
        """The agreement's loan period from today, moved off a day the
        borrowing library is closed (its patron brings the book back there)."""
        due = ctx.day + self._loan_period(ctx)
        return self._calendar(ctx.request.requester_library_id, ctx.day).open_on_or_after(due)

    def default_renewal_due(self, ctx: workflow.Context) -> date:
        """One more loan period after the current due date (or after today, if
        that is later), moved off a day the borrowing library is closed."""
        due = max(ctx.request.due_date or ctx.day, ctx.day) + self._loan_period(ctx)
        return self._calendar(ctx.request.requester_library_id, ctx.day).open_on_or_after(due)

    def check_renewal_allowed(self, ctx: workflow.Context) -> None:
        req = ctx.request
        link = agreement_between(self.session, req.requester_library_id, req.current_lender_id, "loan", ctx.day)
        allowed = getattr(link, "renewals_allowed", None)
        if allowed is None:
            return
        if allowed is False or (not isinstance(allowed, bool) and (req.renewals or 0) >= int(allowed)):
            raise Conflict(
                _(
                    "The agreement with %(code)s allows no more renewals (%(n)s so far).",
                    code=req.current_lender.code if req.current_lender else "?",
                    n=req.renewals or 0,
                )
            )


# --- firing actions -----------------------------------------------------------------


def _record(
    session, req: LoanRequest, user: User | None, action: str, before: str | None, after: str, note: str, data: dict
) -> RequestEvent:
    event = RequestEvent(
        request=req,
        actor_id=user.id if user else None,
        actor_label=actor_label(user),
        action=action,
        from_status=before,
        to_status=after,
        note=note or "",
        data=data,
    )
    session.add(event)
    return event


def _flush(session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(_("Someone else answered this request first: reload it and try again."), code="stale")


def _after(session, req: LoanRequest, event: RequestEvent) -> None:
    for hook in list(workflow.after_transition):
        hook(session, req, event)


def fire(
    session,
    user: User | None,
    req: LoanRequest,
    action: str,
    params: dict | None = None,
    version=None,
    day: date | None = None,
    roles: frozenset[str] | None = None,
) -> RequestEvent:
    """Fire ``action`` on ``req`` as ``user`` (None: the tick). ``version`` is the
    version the caller saw; a different one is refused with 409."""
    params = dict(params or {})
    day = day or clock.today()
    if user is not None:
        if version in (None, ""):
            raise BadRequest(_("Send the version of the request you are answering ('version')."), field="version")
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise BadRequest(_("'version' must be a whole number."), field="version")
    if version is not None and version != req.version:
        raise Conflict(
            _(
                "This request has changed since you loaded it (your version %(yours)s, now "
                "%(now)s): reload it and try again.",
                yours=version,
                now=req.version,
            ),
            code="stale",
        )
    note = str(params.get("note") or "").strip()[:2000]
    ctx = workflow.Context(
        request=req,
        action=action,
        roles=roles or roles_for(user, req),
        params=params,
        day=day,
        service=Effects(session),
        session=session,
        actor=user,
        note=note,
    )
    # One UPDATE of the request per transition (the version moves by one), and
    # a stale version surfaces at the one flush below, as a 409.
    with session.no_autoflush:
        before, after = workflow.fire(ctx)
        event = _record(session, req, user, action, before, after, note, ctx.data)
    _flush(session)
    _after(session, req, event)
    return event


def act(
    session, user: User, request_id: int, action: str, params: dict | None, version, day: date | None = None
) -> RequestEvent:
    req = get_visible(session, user, request_id)
    return fire(session, user, req, action, params, version, day)


def act_many(session, user: User, action: str | tuple[str, ...], wanted: list[tuple[int, object, dict]],
             day: date | None = None) -> tuple[list[int], list[tuple[int, str]]]:
    """The same action (or actions, one after the other) on several requests
    (a lender shipping its morning's pull list): each (request id, version
    seen, params) as ``act`` would do it alone, in a savepoint of its own, so
    that one refused leaves the others done and itself as it was. Returns
    (done, [(refused, why)])."""
    steps = (action,) if isinstance(action, str) else tuple(action)
    done: list[int] = []
    refused: list[tuple[int, str]] = []
    for request_id, version, params in wanted:
        try:
            with session.begin_nested():
                req = get_visible(session, user, request_id)
                for step in steps:
                    fire(session, user, req, step, params, version, day)
                    version = req.version
        except ServiceError as exc:
            refused.append((request_id, exc.message))
        else:
            done.append(request_id)
    return done, refused


# --- making a request ------------------------------------------------------------------


def _cluster(session, record_id):
    from union_catalog.models import Cluster

    try:
        cid = int(record_id)
    except (TypeError, ValueError):
        raise BadRequest(_("'record_id' must be the number of a union record."), field="record_id")
    cluster = session.get(Cluster, cid)
    if cluster is None:
        raise NotFound(_("No union record %(id)s in the catalogue.", id=cid))
    return cluster


def _wanted(req: LoanRequest) -> routing.Wanted:
    """What a request asks, as routing's rules weigh it."""
    cluster = req.cluster
    return routing.wanted_for(req.service, req.citation, cluster.format if cluster else None,
                              cluster.year if cluster else None)


def _clean_citation(raw) -> dict:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise BadRequest(
            _("'citation' must be an object of fields (article_title, pages, volume, issue, year...)."),
            field="citation",
        )
    out = {}
    for key, value in raw.items():
        if key not in CITATION_FIELDS:
            raise BadRequest(
                _("Unknown citation field '%(name)s'. Known: %(known)s.", name=key, known=", ".join(CITATION_FIELDS)),
                field=f"citation.{key}",
            )
        text = "" if value is None else str(value).strip()
        if len(text) > CITATION_FIELDS[key]:
            raise BadRequest(
                _("citation.%(name)s is longer than %(n)d characters.", name=key, n=CITATION_FIELDS[key]),
                field=f"citation.{key}",
            )
        if text:
            out[key] = text
    if "year" in out and not (out["year"].isdigit() and 1000 <= int(out["year"]) <= 2100):
        raise BadRequest(
            _("citation.year must be a year such as 2015, not '%(value)s'.", value=out["year"]), field="citation.year"
        )
    return out


def parse_day(value, name: str) -> date | None:
    """A day as YYYY-MM-DD, None for nothing; else 400 naming ``name``."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadRequest(
            _("'%(name)s' must be a date as YYYY-MM-DD, not '%(value)s'.", name=name, value=str(value)[:40]), field=name
        )


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on", "ya")


def _own_call_number(session, library_id: int, cluster_id: int) -> str:
    from union_catalog.models import Item, SourceRecord

    return (
        session.scalar(
            select(Item.call_number)
            .join(SourceRecord, SourceRecord.id == Item.source_record_id)
            .where(SourceRecord.cluster_id == cluster_id, SourceRecord.partner_id == library_id, Item.call_number != "")
            .limit(1)
        )
        or ""
    )


def patron_for_desk(session, librarian: User, who) -> User:
    """The patron of the librarian's own library whose library card number or
    e-mail address is ``who``: a request made at the desk, or by telephone,
    is theirs."""
    if not accounts.card_key(who):
        raise BadRequest(_("Give the patron's library card number or e-mail address."), field="patron")
    found = session.scalars(select(User).where(
        User.library_id == librarian.library_id, User.role == Role.PATRON, User.active.is_(True),
        or_(accounts.card_is(who), User.email == accounts.normalise_email(str(who))))).all()
    if len(found) != 1:
        raise BadRequest(_("No patron of %(library)s has the card number or e-mail address '%(who)s'.",
                           library=librarian.library.code, who=str(who)[:60]), field="patron")
    return found[0]


def _check_copy(citation: dict, copyright_ack: bool) -> None:
    """A copy names its part, and comes with the copyright declaration."""
    if not (citation.get("article_title") or citation.get("pages")):
        raise BadRequest(
            _("For a copy, name the article or chapter (citation.article_title) or the pages (citation.pages)."),
            field="citation.article_title",
        )
    if not copyright_ack:
        raise BadRequest(
            _(
                "For a copy, declare that it is for private study or research and "
                "within copyright limits (copyright_ack)."
            ),
            field="copyright_ack",
        )


def _check_named(has_record: bool, citation: dict) -> None:
    """A request names a union record, or describes its item."""
    if not has_record and not citation.get("title"):
        raise BadRequest(
            _("Name the union record (record_id) or, for an item not in the catalogue, describe it (citation.title)."),
            field="record_id",
        )


def _check_needed_by(needed_by: date | None, day: date) -> None:
    if needed_by is not None and needed_by < day:
        raise BadRequest(_("'needed_by' is in the past."), field="needed_by")


def _make(session, maker: User, library_id: int, patron_id: int | None, day: date, *, cluster_id: int | None,
          service: str, citation: dict, copyright_ack: bool, needed_by: date | None, note: str,
          data: dict) -> LoanRequest:
    """The new request and its first event, told to the hooks; not routed yet."""
    req = LoanRequest(patron_id=patron_id, requester_library_id=library_id, cluster_id=cluster_id, service=service,
                      status="new", citation=citation, copyright_ack=copyright_ack, needed_by=needed_by, note=note,
                      created_on=day, round=0)
    session.add(req)
    _record(session, req, maker, "create", None, "new", note, {"service": service, **data})
    session.flush()
    _after(session, req, req.events[-1])
    return req


def create(session, user: User, data: dict, day: date | None = None) -> LoanRequest:
    """A patron's (or a librarian's) new request; routed at once unless the
    borrowing library reviews requests or it is a citation request. A
    librarian may make it for a patron of their library (``patron``: the
    card number or e-mail address): it is then the patron's, weighed by the
    patron's limits, and the patron is told."""
    day = day or clock.today()
    if user.role not in (Role.PATRON, Role.LIBRARIAN) or user.library_id is None:
        raise ServiceError(
            _("Only a patron or a librarian of a partner library can make a request."), status=403, code="forbidden"
        )
    if not isinstance(data, dict):
        raise BadRequest(_("Send the request as a JSON object."))
    service = str(data.get("service") or "loan").strip()
    if service not in SERVICES:
        raise BadRequest(_("'service' must be loan or copy, not '%(value)s'.", value=service[:20]), field="service")
    citation = _clean_citation(data.get("citation"))
    needed_by = parse_day(data.get("needed_by"), "needed_by")
    _check_needed_by(needed_by, day)
    note = str(data.get("note") or "").strip()
    if len(note) > 2000:
        raise BadRequest(_("'note' is longer than %(n)d characters.", n=2000), field="note")
    copyright_ack = _truthy(data.get("copyright_ack"))
    if service == "copy":
        _check_copy(citation, copyright_ack)
    cluster = _cluster(session, data.get("record_id")) if data.get("record_id") not in (None, "") else None
    _check_named(cluster is not None, citation)
    library = user.library
    maker = user
    if data.get("patron") not in (None, ""):
        if user.role != Role.LIBRARIAN:
            raise Forbidden(_("Only a librarian makes a request for a patron."))
        user = patron_for_desk(session, maker, data.get("patron"))
    # What follows counts the user's open requests: a second request of
    # theirs sent at the same instant waits here until this one is made.
    accounts.hold(session, user.id)
    if cluster is not None:
        wanted = routing.wanted_for(service, citation, cluster.format, cluster.year)
        own = next((h for h in routing.holdings_for(session, cluster.id) if h.partner_id == library.id), None)
        if routing.home_can_serve(own, wanted):
            call = _own_call_number(session, library.id, cluster.id)
            raise Conflict(
                _(
                    "Your own library (%(library)s) holds this and can give it to you: ask at the desk%(call)s.",
                    library=library.name,
                    call=(" " + _("(call number %(call)s)", call=call)) if call else "",
                ),
                code="held_locally",
            )
        duplicate = session.scalar(
            select(LoanRequest.id).where(
                LoanRequest.patron_id == user.id,
                LoanRequest.cluster_id == cluster.id,
                LoanRequest.service == service,
                LoanRequest.status.not_in(TERMINAL_STATES),
            )
        )
        if duplicate is not None:
            raise Conflict(
                _("You already have an open request (no. %(id)s) for this record.", id=duplicate),
                code="duplicate",
                details={"request_id": duplicate},
            )
    patrons.check_may_request(session, user, day)
    made_for = {"for_patron": True} if maker is not user else {}
    req = _make(session, maker, library.id, user.id, day, cluster_id=cluster.id if cluster else None,
                service=service, citation=citation, copyright_ack=copyright_ack, needed_by=needed_by, note=note,
                data=made_for)
    if made_for:
        from . import loan_notices

        loan_notices.made_for_patron(session, req, maker)
    if cluster is not None and (not library.review_requests or made_for):  # a librarian's own making is the review
        fire(session, None, req, "route", {}, None, day, roles=frozenset({workflow.SYSTEM}))
    return req


def create_for_library(session, librarian: User, lender_code: str, *, cluster_id: int | None, citation: dict,
                       service: str = "loan", copyright_ack: bool = False, needed_by: date | None = None,
                       note: str = "", day: date | None = None, data: dict | None = None) -> LoanRequest:
    """A loan or copy asked by a library itself, of one lender it names: a
    library on its own system borrowing (ill/iso18626.py), which keeps its
    patron and its rota there. No patron here; the lender is asked at once,
    under the rota's own rule (a live agreement for the service, lending not
    paused, not closed); a copy is downloaded by the library's staff."""
    day = day or clock.today()
    if librarian.role != Role.LIBRARIAN or librarian.library_id is None:
        raise Forbidden(_("Only a librarian of a partner library can make a request."))
    citation = _clean_citation({k: str(v)[:CITATION_FIELDS[k]] for k, v in citation.items() if v})
    if service == "copy":
        _check_copy(citation, copyright_ack)
    _check_named(cluster_id is not None, citation)
    _check_needed_by(needed_by, day)
    req = _make(session, librarian, librarian.library_id, None, day, cluster_id=cluster_id, service=service,
                citation=citation, copyright_ack=copyright_ack, needed_by=needed_by, note=note[:2000],
                data=data or {})
    fire(session, None, req, "route", {"lender": lender_code}, None, day, roles=frozenset({workflow.SYSTEM}))
    return req


# --- queues ---------------------------------------------------------------------------

# What a lender still has to fetch from its shelves: asked, or promised, and not yet sent.
TO_FETCH = ("requested", "expect_to_supply", "will_supply")
# Which of its copies to try first.
_FETCH_FIRST = {"available": 0, "unknown": 1, "not_for_loan": 2, "on_loan": 3}


def likeliest_first(items: list) -> list:
    """A library's copies of a record in the order to try them: on the shelf
    first, then by location and call number."""
    return sorted(items, key=lambda i: (_FETCH_FIRST.get(i.status, 4), i.location.casefold(),
                                        i.call_number.casefold()))


def lender_copies(session, library_id: int, cluster_ids) -> dict[int, list]:
    """A library's live copies of these union records, each record's the
    likeliest first: {cluster_id: [Item]}."""
    from union_catalog.models import Item, SourceRecord

    copies: dict[int, list] = {}
    ids = {c for c in cluster_ids if c is not None}
    if ids:
        for cluster_id, item in session.execute(
            select(SourceRecord.cluster_id, Item)
            .join(Item, Item.source_record_id == SourceRecord.id)
            .where(SourceRecord.cluster_id.in_(ids), SourceRecord.partner_id == library_id,
                   SourceRecord.withdrawn_at.is_(None))
        ):
            copies.setdefault(cluster_id, []).append(item)
    return {cluster_id: likeliest_first(items) for cluster_id, items in copies.items()}


def _pulling_library(user: User) -> int:
    if user.role != Role.LIBRARIAN or user.library_id is None:
        raise Forbidden(_("Only a librarian of a partner library has a pull list."))
    return user.library_id


def ship_fetched(session, user: User, wanted: list[tuple[int, object, str]], day: date | None = None
                 ) -> tuple[list[int], list[tuple[int, str]]]:
    """The loans of the pull list that were fetched, marked shipped: each
    (request id, version seen, barcode of the copy taken) as ``act_many``."""
    _pulling_library(user)
    return act_many(session, user, "loaned", [(rid, version, {"barcode": barcode}) for rid, version, barcode in wanted],
                    day)


def not_on_the_shelf(session, user: User, wanted: list[tuple[int, object]], day: date | None = None
                     ) -> tuple[list[int], list[tuple[int, str]]]:
    """The requests of the pull list whose item was not found on the shelf:
    each (request id, version seen) answered ``unfilled`` with the reason
    ``missing``, so that it passes to the next lender at once, as
    ``act_many``."""
    _pulling_library(user)
    note = _("Not found on the shelf (pull list).")
    return act_many(session, user, "unfilled", [(rid, version, {"reason": "missing", "note": note})
                                                for rid, version in wanted], day)


def pull_list(session, user: User) -> list[tuple[LoanRequest, list]]:
    """The librarian's library's requests to fetch, each with the library's
    own copies of the record (the likeliest first), in shelf order: by the
    location and call number of each request's likeliest copy; requests with
    no copy listed come last."""
    library_id = _pulling_library(user)
    rows = session.scalars(
        select(LoanRequest)
        .where(LoanRequest.current_lender_id == library_id, LoanRequest.status.in_(TO_FETCH))
        .order_by(LoanRequest.id)
    ).all()
    copies = lender_copies(session, library_id, {r.cluster_id for r in rows})

    def shelf(req):
        first = (copies.get(req.cluster_id) or [None])[0]
        return (first is None, first.location.casefold() if first else "",
                first.call_number.casefold() if first else "", req.id)

    return [(r, copies.get(r.cluster_id) or []) for r in sorted(rows, key=shelf)]


# How many requests a queue's page shows; an API caller may ask up to paging.MAX_PER_PAGE.
PER_PAGE = 50


def _queue_filter(user: User, side: str | None, status: str | None, q: str | None) -> list:
    """The WHERE clauses of a user's queue: their own requests (a patron),
    their library's on one side or both (a librarian), all (coordinators);
    ``status``: one or more, comma-separated; ``q``: a request's number
    (#digits only that; digits also the barcode of the copy sent), the
    barcode of the copy sent (staff), else part of the title or citation, or
    (for those who may see who asked) of the patron's name or e-mail
    address."""
    from sqlalchemy import String, and_, cast

    from union_catalog.models import Cluster

    where = []
    if user.role == Role.PATRON:
        where.append(LoanRequest.patron_id == user.id)
    elif user.role == Role.LIBRARIAN:
        if side == "borrowing":
            where.append(LoanRequest.requester_library_id == user.library_id)
        elif side == "lending":
            where.append(LoanRequest.current_lender_id == user.library_id)
        elif side in (None, "", "all"):
            where.append(or_(LoanRequest.requester_library_id == user.library_id,
                             LoanRequest.current_lender_id == user.library_id))
        else:
            raise BadRequest(_("'side' must be borrowing or lending."), field="side")
    elif user.role not in (Role.COORDINATOR, Role.ADMIN):
        where.append(false())
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in workflow.STATUSES]
        if unknown:
            raise BadRequest(
                _(
                    "Unknown status '%(status)s'. Known: %(known)s.",
                    status=unknown[0],
                    known=", ".join(workflow.STATUSES),
                ),
                field="status",
            )
        where.append(LoanRequest.status.in_(statuses))
    q = paging.search_text(q)
    if q:
        number = q.removeprefix("#").strip()
        by_number = LoanRequest.id == int(number) if number.isascii() and number.isdigit() and len(number) < 10 \
            else false()
        if q.startswith("#"):  # a request's number, and nothing else
            where.append(by_number)
            return where
        # a copy's barcode, scanned as a loan ships or comes back, finds its request
        # ... and so does a parcel's tracking number (resi), either way
        sent = (or_(LoanRequest.item_barcode == q, LoanRequest.tracking_number == q,
                    LoanRequest.return_tracking == q) if user.role != Role.PATRON else false())

        def patron_matches(*conditions):
            """The request's patron matches, for those who may see who asked (can_see_patron)."""
            exists = select(User.id).where(User.id == LoanRequest.patron_id, or_(*conditions)).exists()
            if user.role in (Role.COORDINATOR, Role.ADMIN):
                return exists
            if user.role == Role.LIBRARIAN:
                return and_(LoanRequest.requester_library_id == user.library_id, exists)
            return false()

        # a patron's library card, scanned at the desk
        card = accounts.card_is(q)
        if number.isascii() and number.isdigit():  # a number: the request's, a barcode, a card (a NIM)
            where.append(or_(by_number, sent, patron_matches(card)))
            return where
        like = paging.like_pattern(q)
        found = [
            sent,
            # each request's own record and patron looked at (a queue is far smaller than the catalogue)
            select(Cluster.id).where(Cluster.id == LoanRequest.cluster_id,
                                     Cluster.title.ilike(like, escape="\\")).exists(),
            cast(LoanRequest.citation, String).ilike(like, escape="\\"),
            patron_matches(User.name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\"), card),
        ]
        where.append(or_(*found))
    return where


def queue_page(session, user: User, side: str | None = None, status: str | None = None, q: str | None = None,
               page=1, per_page=PER_PAGE) -> paging.Page:
    """One page of a user's queue (see ``_queue_filter``), newest first."""
    where = _queue_filter(user, side, status, q)
    return paging.fetch(session, select(func.count(LoanRequest.id)).where(*where),
                        select(LoanRequest).where(*where).order_by(LoanRequest.id.desc()), page, per_page)


def queue(session, user: User, side: str | None = None, status: str | None = None) -> list[LoanRequest]:
    """The newest requests of a user's queue, as many as a page may hold."""
    return queue_page(session, user, side, status, per_page=paging.MAX_PER_PAGE).rows


def queue_counts(session, user: User) -> dict[str, dict[str, int]]:
    """Per side, the number of requests in each status (a librarian's own library)."""
    out = {"borrowing": {}, "lending": {}}
    if user.role != Role.LIBRARIAN:
        return out
    for side, column in (("borrowing", LoanRequest.requester_library_id), ("lending", LoanRequest.current_lender_id)):
        for status, n in session.execute(
            select(LoanRequest.status, func.count(LoanRequest.id))
            .where(column == user.library_id)
            .group_by(LoanRequest.status)
        ):
            out[side][status] = n
    return out


# --- the daily tick ------------------------------------------------------------------------


def _tick(session, day: date, rows, action: str) -> list[str]:
    lines = []
    for req in rows:
        try:
            with session.begin_nested():
                event = fire(session, None, req, action, {"note": ""}, None, day, roles=frozenset({workflow.SYSTEM}))
        except ServiceError as exc:
            lines.append(f"request {req.id}: {action} refused: {exc.message}")
            continue
        lines.append(f"request {req.id}: {event.from_status} -> {event.to_status}")
    return lines


def tick_unanswered(session, day: date) -> list[str]:
    """Lenders that did not answer by their agreement's deadline are passed over."""
    rows = session.scalars(
        select(LoanRequest)
        .where(LoanRequest.status == "requested", LoanRequest.answer_due.is_not(None), LoanRequest.answer_due < day)
        .order_by(LoanRequest.id)
    ).all()
    return _tick(session, day, rows, "no_answer")


def answer_deadline(session, entry: RotaEntry) -> date:
    """A lender's last day to answer: its agreement's working days from the
    day it was asked, on its calendar."""
    from agreements import calendar

    return routing.answer_deadline(entry.asked_on, entry.reason_args.get("response_days", 3),
                                   calendar.for_library(session, entry.partner_id, entry.asked_on))


def follow_calendar(session, library_id: int | None) -> list[int]:
    """A closed day added after a lender was asked (a holiday announced late,
    a library's sudden closure, a day of the week it now closes) gives it the
    days to answer that its agreement promised: the deadlines of requests
    waiting on it (on any library, for the network's days) are reckoned
    again from the day each was asked, on today's calendar. A deadline only
    moves later: one already told is never shortened by a day opened again.
    ``agreements.calendar.on_change``; returns the requests whose deadline moved."""
    where = [LoanRequest.status == "requested", LoanRequest.answer_due.is_not(None)]
    if library_id is not None:
        where.append(LoanRequest.current_lender_id == library_id)
    moved = []
    for req in session.scalars(select(LoanRequest).options(selectinload(LoanRequest.rota))
                               .where(*where).order_by(LoanRequest.id)):
        entry = req.current_entry()
        if entry is None or entry.asked_on is None:
            continue
        due = answer_deadline(session, entry)
        if due > (entry.answer_due or due):
            entry.answer_due = req.answer_due = due
            moved.append(req.id)
    return moved


def tick_closed_lenders(session, day: date) -> list[str]:
    """A request still waiting for the answer of a library that is closed
    today by closed days of its own (a semester break, stock-taking) goes to
    the next lender at once, rather than waiting out the closure; the library
    is not counted as not answering (rota outcome ``closed``)."""
    from agreements.calendar import closures_on

    closed = closures_on(session, day)
    if not closed:
        return []
    rows = session.scalars(
        select(LoanRequest)
        .where(LoanRequest.status == "requested", LoanRequest.current_lender_id.in_(closed))
        .order_by(LoanRequest.id)
    ).all()
    return _tick(session, day, rows, "lender_closed")


def tick_past_needed(session, day: date) -> list[str]:
    """Requests no lender has promised by the day the patron needed them are withdrawn."""
    rows = session.scalars(
        select(LoanRequest)
        .where(LoanRequest.status.in_(workflow.EXPIRABLE), LoanRequest.needed_by.is_not(None),
               LoanRequest.needed_by < day)
        .order_by(LoanRequest.id)
    ).all()
    return _tick(session, day, rows, "expire")


def tick_overdue(session, day: date) -> list[str]:
    rows = session.scalars(
        select(LoanRequest)
        .where(LoanRequest.status == "checked_out", LoanRequest.due_date.is_not(None), LoanRequest.due_date < day)
        .order_by(LoanRequest.id)
    ).all()
    return _tick(session, day, rows, "overdue")


# --- as JSON ---------------------------------------------------------------------------------


def rota_rows(req: LoanRequest, staff: bool = True) -> list[dict]:
    rows = []
    for e in req.rota:
        rows.append(
            {
                "library": e.partner.code if e.partner else None,
                "rank": e.rank,
                "reason": routing.describe(e.reason_code, e.reason_args),
                "outcome": e.outcome,
                "outcome_detail": e.outcome_detail or None,
                # passed over as its turn came: why, in words
                "passed_over": routing.passed_over_reason(e.outcome_detail, e.reason_args)
                if e.outcome == "passed_over" else None,
                "round": e.round,
                "asked_on": clock.iso(e.asked_on),
                "answer_due": clock.iso(e.answer_due),
            }
        )
    return rows


def to_dict(req: LoanRequest, user: User | None = None) -> dict:
    staff = user is None or user.role != Role.PATRON
    return {
        "id": req.id,
        "status": req.status,
        "service": req.service,
        "record_id": req.cluster_id,
        "title": req.title,
        "patron": (
            {"id": req.patron.id, "name": req.patron.name}
            if req.patron and (user is None or can_see_patron(user, req))
            else None
        ),
        "requester_library": req.requester_library.code if req.requester_library else None,
        "current_lender": req.current_lender.code if req.current_lender else None,
        "citation": req.citation or {},
        "copyright_ack": req.copyright_ack,
        "needed_by": clock.iso(req.needed_by),
        "note": req.note,
        "due_date": clock.iso(req.due_date),
        "answer_due": clock.iso(req.answer_due),
        "condition": req.condition or None,
        "cost": req.cost or None,
        "renewal_due": clock.iso(req.renewal_due),
        "renewals": req.renewals or 0,
        "recalled_on": clock.iso(req.recalled_on),
        "lost_on": clock.iso(req.lost_on),
        "pickup_by": clock.iso(pickup.kept_until(req)),
        "item_barcode": req.item_barcode or None,
        "shipment": {"courier": req.shipped_via or None, "tracking": req.tracking_number or None}
        if (req.shipped_via or req.tracking_number) else None,
        "return_shipment": {"courier": req.returned_via or None, "tracking": req.return_tracking or None}
        if (req.returned_via or req.return_tracking) else None,
        "loan_cost": str(req.loan_cost) if req.loan_cost is not None else None,
        "charge": req.charge or None,
        "version": req.version,
        # The rota with its reasons is for staff: it speaks of other libraries' load and record.
        "rota": rota_rows(req) if staff else [],
        "events": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor_label,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
                "data": e.data or {},
            }
            for e in req.events
            if workflow.visible_to(e, user, staff)
        ],
        "actions": workflow.allowed_actions(req, roles_for(user, req)) if user is not None else [],
        "created_at": clock.iso(req.created_at),
    }
