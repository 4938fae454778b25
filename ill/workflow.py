"""The one state machine of a loan or copy request, as configuration.

``MACHINE`` maps each status to the actions allowed in it; each action is a
``Transition``: the status it leads to, who may fire it, an optional guard
(raises when the action does not fit this request) and an optional effect
(does the action's work; may choose the next status among ``to`` when there
is more than one, e.g. the next lender or ``unfilled``). Statuses and action
names follow ISO 18626 where it has a name.

``fire`` is the only way a status changes, for the API, the pages and the
tick alike. It works on any object with the request's attributes and on a
``Context`` whose ``service`` does what needs the database (moving along the
rota, agreement terms), so the machine can be tested on plain objects.

Other packages hook in without touching the table: ``add_effect(action, fn)``
runs ``fn(ctx)`` after the built-in effect (document delivery stores the copy
there), and every callable in ``after_transition`` is called with
``(session, request, event)`` once the event is written (notifications).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import clock
from .errors import BadRequest, Conflict, Forbidden

BORROWER, LENDER, PATRON, SYSTEM = "borrower", "lender", "patron", "system"
SAME = "="  # a transition that keeps the status (renewals, recall)

STATUSES = (
    "new",
    "requested",
    "expect_to_supply",
    "will_supply",
    "conditional",
    "loaned",
    "received",
    "checked_out",
    "overdue",
    "returned",
    "shipped_return",
    "lost",
    "completed",
    "completed_without_return",
    "copy_completed",
    "unfilled",
    "cancelled",
)
TERMINAL = ("completed", "completed_without_return", "copy_completed", "cancelled")
# Once the item has left the lender, a cancellation would strand it: the
# borrowing library sends it back through returned -> shipped_return instead.
SHIPPED = ("loaned", "received", "checked_out", "overdue", "returned", "shipped_return")
# A loaned book reported lost, settled or not.
LOST = ("lost", "completed_without_return")

UNFILLED_REASONS = ("not_held", "on_loan", "not_for_loan", "damaged", "missing", "policy", "other")


@dataclass
class Context:
    """One attempt to fire an action."""

    request: object
    action: str
    roles: frozenset[str]
    params: dict
    day: date
    service: object = None  # what needs the database; see ill.requests_service.Effects
    session: object = None
    actor: object = None
    note: str = ""
    data: dict = field(default_factory=dict)  # recorded with the event


Guard = Callable[[Context], None]
Effect = Callable[[Context], "str | None"]


@dataclass(frozen=True)
class Transition:
    to: str | tuple[str, ...]
    who: frozenset[str]
    guard: Guard | None = None
    effect: Effect | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        return self.to if isinstance(self.to, tuple) else (self.to,)


# --- params -----------------------------------------------------------------


def param_text(ctx: Context, name: str, required: bool = False, limit: int = 2000) -> str:
    value = ctx.params.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise BadRequest(_("The action %(action)s needs '%(name)s'.", action=ctx.action, name=name), field=name)
    if len(value) > limit:
        raise BadRequest(_("'%(name)s' is longer than %(n)d characters.", name=name, n=limit), field=name)
    return value


def param_day(ctx: Context, name: str, required: bool = False) -> date | None:
    value = ctx.params.get(name)
    if value in (None, ""):
        if required:
            raise BadRequest(
                _("The action %(action)s needs '%(name)s' (a date, YYYY-MM-DD).", action=ctx.action, name=name),
                field=name,
            )
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadRequest(
            _("'%(name)s' must be a date as YYYY-MM-DD, not '%(value)s'.", name=name, value=str(value)[:40]), field=name
        )


def param_bool(ctx: Context, name: str) -> bool:
    value = ctx.params.get(name)
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in ("true", "1", "yes", "on", "ya"):
        return True
    if text in ("false", "0", "no", "off", "tidak"):
        return False
    raise BadRequest(_("'%(name)s' must be true or false.", name=name), field=name)


# --- guards -----------------------------------------------------------------


def is_loan(ctx: Context) -> None:
    if ctx.request.service != "loan":
        raise Conflict(_("%(action)s is for loans; this request is for a copy.", action=ctx.action))


def is_copy(ctx: Context) -> None:
    if ctx.request.service != "copy":
        raise Conflict(_("%(action)s is for copies; this request is for a loan.", action=ctx.action))


def renewable(ctx: Context) -> None:
    """A loan's renewal is asked by the borrowing library, or by the patron
    once the book is lent to them; never of a book the lender has recalled."""
    is_loan(ctx)
    if BORROWER not in ctx.roles and ctx.request.status not in ("checked_out", "overdue"):
        raise Conflict(_("You can ask for a renewal once the book has been lent to you."))
    if getattr(ctx.request, "recalled_on", None) is not None:
        raise Conflict(_("The lender has recalled this book: it cannot be renewed. Please return it."))


def renewal_pending(ctx: Context) -> None:
    if ctx.request.renewal_due is None:
        raise Conflict(_("No renewal has been asked for this loan."))


def past_needed_by(ctx: Context) -> None:
    needed_by = getattr(ctx.request, "needed_by", None)
    if needed_by is None or needed_by >= ctx.day:
        raise Conflict(_("The request is not past the day it was needed."))


def past_due(ctx: Context) -> None:
    if ctx.request.due_date is None or ctx.request.due_date >= ctx.day:
        raise Conflict(_("The loan is not past its due date."))


# --- effects ----------------------------------------------------------------


def _advance(outcome: str, detail_param: str | None = None) -> Effect:
    def effect(ctx: Context) -> str:
        detail = ""
        if detail_param:
            detail = param_text(ctx, detail_param, required=True)
            if detail not in UNFILLED_REASONS:
                raise BadRequest(
                    _("'reason' must be one of: %(choices)s.", choices=", ".join(UNFILLED_REASONS)), field="reason"
                )
            ctx.data["reason"] = detail
        return ctx.service.advance(ctx, outcome, detail)

    return effect


def message(ctx: Context) -> None:
    """A word on the request without changing it: the patron writes to their
    library; the borrowing library to the lender (``to``: lender, the
    default) or to its patron (``to``: patron); the lender to the borrowing
    library. A message between the two libraries is theirs: the patron does
    not see it (``for_patron``)."""
    if not param_text(ctx, "note"):
        raise BadRequest(_("Write the message ('note')."), field="note")
    wanted = str(ctx.params.get("to") or "").strip()
    if PATRON in ctx.roles:
        sender, to = "patron", "borrowing_library"
    elif BORROWER in ctx.roles:
        sender, to = "borrowing_library", wanted or "lender"
        if to not in ("lender", "patron"):
            raise BadRequest(_("'to' must be lender or patron, not '%(value)s'.", value=wanted[:20]), field="to")
        if to == "lender" and ctx.request.current_lender_id is None:
            raise Conflict(_("No lender has this request now: there is nobody to write to."))
        if to == "patron" and ctx.request.patron_id is None:
            raise Conflict(_("This request has no patron to write to."))
    else:
        sender, to = "lender", "borrowing_library"
    ctx.data.update({"from": sender, "to": to})


def staff_note(ctx: Context) -> None:
    """A note one library keeps on a request for its own staff ("patron
    phoned: collects Monday"): nobody else sees it, neither the other
    library nor the patron (``visible_to``), and nobody is told."""
    if not param_text(ctx, "note"):
        raise BadRequest(_("Write the note ('note')."), field="note")
    # the writer's library: the parties' roles are librarians', who belong to one
    ctx.data.update({"internal": True, "library": getattr(ctx.actor, "library_id", None)})


def visible_to(event, user, staff: bool) -> bool:
    """Whether ``user`` sees this event of a request they may see (``staff``:
    they see it as staff): a library's own notes only its own staff; the
    messages between the two libraries not the patron."""
    data = event.data or {}
    if data.get("internal"):
        return staff and getattr(user, "library_id", None) == data.get("library")
    return staff or for_patron(event)


def for_patron(event) -> bool:
    """Whether the patron sees this event of their request: all but the
    messages between the two libraries and the libraries' own notes."""
    if (event.data or {}).get("internal"):
        return False
    if event.action != "message":
        return True
    data = event.data or {}
    return "patron" in (data.get("from"), data.get("to"))


def conditional(ctx: Context) -> None:
    ctx.request.condition = param_text(ctx, "condition", required=True)
    ctx.request.cost = param_text(ctx, "cost", limit=50)
    ctx.data.update(condition=ctx.request.condition, cost=ctx.request.cost)


def accept_condition(ctx: Context) -> None:
    ctx.data["condition"] = ctx.request.condition


def loaned(ctx: Context) -> None:
    due = param_day(ctx, "due_date") or ctx.service.default_due_date(ctx)
    if due <= ctx.day:
        raise BadRequest(_("The due date must be after today."), field="due_date")
    ctx.request.due_date = due
    ctx.data["due_date"] = due.isoformat()
    barcode = param_text(ctx, "barcode", limit=100)
    if barcode:
        ctx.request.item_barcode = barcode
        ctx.data["barcode"] = barcode
    _parcel(ctx, "shipped_via", "tracking_number")
    ctx.service.supplied(ctx)
    ctx.service.price_loan(ctx)
    _copy_now(ctx, "on_loan")


def _parcel(ctx: Context, via: str, tracking: str) -> None:
    """The courier (``courier``) and tracking number (``tracking``, the resi)
    of a parcel, when the library gives them, kept on the request."""
    courier = param_text(ctx, "courier", limit=50)
    number = "".join(param_text(ctx, "tracking", limit=100).split())
    if courier:
        setattr(ctx.request, via, courier)
        ctx.data["courier"] = courier
    if number:
        setattr(ctx.request, tracking, number)
        ctx.data["tracking"] = number


def shipped_back(ctx: Context) -> None:
    _parcel(ctx, "returned_via", "return_tracking")


def _copy_now(ctx: Context, status: str) -> None:
    """The lender's copy that was sent, as the union catalogue lists it: on
    loan while away, available once checked in, lost when a loss is settled.
    Only when the lender named the copy (its barcode) as it shipped it."""
    if getattr(ctx.request, "item_barcode", ""):
        ctx.service.copy_status(ctx, status)


def back_on_the_shelf(ctx: Context) -> None:
    no_longer_lost(ctx)
    _copy_now(ctx, "available")


def copy_completed(ctx: Context) -> None:
    ctx.service.supplied(ctx)


def renew(ctx: Context) -> None:
    if ctx.request.renewal_due is not None:
        raise Conflict(_("A renewal is already waiting for the lender's answer."))
    # without a day asked for: one more loan period (the agreement's) after the current due date
    due = param_day(ctx, "due_date") or ctx.service.default_renewal_due(ctx)
    if ctx.request.due_date is not None and due <= ctx.request.due_date:
        raise BadRequest(
            _("Ask for a due date after the current one (%(day)s).", day=ctx.request.due_date.isoformat()),
            field="due_date",
        )
    ctx.service.check_renewal_allowed(ctx)
    ctx.request.renewal_due = due
    ctx.data["due_date"] = due.isoformat()


def renew_answer(ctx: Context) -> str | None:
    approve = param_bool(ctx, "approve")
    ctx.data["approve"] = approve
    if approve:
        due = param_day(ctx, "due_date") or ctx.request.renewal_due
        if due <= ctx.day:
            raise BadRequest(_("The due date must be after today."), field="due_date")
        ctx.request.due_date = due
        ctx.request.renewals = (ctx.request.renewals or 0) + 1
        ctx.data["due_date"] = due.isoformat()
    ctx.request.renewal_due = None
    if approve and ctx.request.status == "overdue":
        return "checked_out"
    return None


def recall(ctx: Context) -> None:
    ctx.request.recalled_on = ctx.day
    due = param_day(ctx, "due_date")
    if due is not None:
        ctx.request.due_date = due
        ctx.data["due_date"] = due.isoformat()
    ctx.request.renewal_due = None


def report_lost(ctx: Context) -> None:
    reason = param_text(ctx, "reason", required=True, limit=500)
    ctx.request.close_reason = reason
    ctx.request.lost_on = ctx.day
    ctx.request.renewal_due = None
    ctx.data["reason"] = reason


def no_longer_lost(ctx: Context) -> None:
    """The lost book has turned up (at the borrowing library, or at the lender)."""
    ctx.request.close_reason = ""
    ctx.request.lost_on = None


def settle_lost(ctx: Context) -> None:
    ctx.request.charge = param_text(ctx, "charge", limit=100)
    ctx.data["charge"] = ctx.request.charge
    _copy_now(ctx, "lost")


def cancel(ctx: Context) -> str:
    reason = param_text(ctx, "reason", limit=500)
    ctx.request.close_reason = reason
    ctx.data["reason"] = reason
    ctx.service.withdraw(ctx)
    return "cancelled"


def expire(ctx: Context) -> None:
    ctx.data["needed_by"] = ctx.request.needed_by.isoformat()
    ctx.service.withdraw(ctx)


def route(ctx: Context) -> str:
    return ctx.service.route(ctx)


def closes_copy(ctx: Context) -> None:
    ctx.request.renewal_due = None


# --- the table ----------------------------------------------------------------


def T(to, *who, guard=None, effect=None) -> Transition:  # noqa: N802 - reads like a table
    return Transition(to, frozenset(who), guard, effect)


NEXT_LENDER = ("requested", "unfilled")
_cancel = T("cancelled", PATRON, BORROWER, effect=cancel)
# Not supplied by the day the patron needed it: the tick withdraws it. Once a
# lender has promised it (will_supply) or shipped it, it goes on.
_expire = T("cancelled", SYSTEM, guard=past_needed_by, effect=expire)
_unfilled = T(NEXT_LENDER, LENDER, effect=_advance("unfilled", "reason"))
_loaned = T("loaned", LENDER, guard=is_loan, effect=loaned)
_copy = T("copy_completed", LENDER, guard=is_copy, effect=copy_completed)
_conditional = T("conditional", LENDER, effect=conditional)
_renew = T(SAME, BORROWER, PATRON, guard=renewable, effect=renew)
_renew_answer = T((SAME, "checked_out"), LENDER, guard=renewal_pending, effect=renew_answer)
_recall = T(SAME, LENDER, effect=recall)
# A loaned book lost anywhere after it left the lender: with the patron, at the
# borrowing library, or in the post either way (ISO 18626's loan "completed
# without return" once the lender has settled it).
_report_lost = T("lost", BORROWER, guard=is_loan, effect=report_lost)
_message = T(SAME, BORROWER, LENDER, PATRON, effect=message)
_staff_note = T(SAME, BORROWER, LENDER, effect=staff_note)

MACHINE: dict[str, dict[str, Transition]] = {
    # A request the borrowing library reviews before it goes out (a citation
    # request, or a library that reviews every request).
    "new": {
        "route": T(NEXT_LENDER, BORROWER, SYSTEM, effect=route),
        "cancel": _cancel,
        "expire": _expire,
    },
    "requested": {
        "expect_to_supply": T("expect_to_supply", LENDER),
        "will_supply": T("will_supply", LENDER),
        "conditional": _conditional,
        "unfilled": _unfilled,
        "loaned": _loaned,
        "copy_completed": _copy,
        "no_answer": T(NEXT_LENDER, SYSTEM, effect=_advance("no_answer")),
        # its lender closed (closed days of its own) before answering: passed on at once
        "lender_closed": T(NEXT_LENDER, SYSTEM, effect=_advance("closed")),
        # its own system refused the ISO 18626 request (ill/iso18626.py): it will not answer
        "lender_refused": T(NEXT_LENDER, SYSTEM, effect=_advance("refused")),
        "cancel": _cancel,
        "expire": _expire,
    },
    "expect_to_supply": {
        "will_supply": T("will_supply", LENDER),
        "conditional": _conditional,
        "unfilled": _unfilled,
        "loaned": _loaned,
        "copy_completed": _copy,
        "cancel": _cancel,
        "expire": _expire,
    },
    "will_supply": {
        "unfilled": _unfilled,
        "loaned": _loaned,
        "copy_completed": _copy,
        "cancel": _cancel,
    },
    "conditional": {
        "accept_condition": T("will_supply", BORROWER, effect=accept_condition),
        "reject_condition": T(NEXT_LENDER, BORROWER, effect=_advance("condition_rejected")),
        "cancel": _cancel,
        "expire": _expire,
    },
    "loaned": {
        "received": T("received", BORROWER),
        "renew": _renew,
        "renew_answer": _renew_answer,
        "recall": _recall,
        "report_lost": _report_lost,
    },
    "received": {
        "checked_out": T("checked_out", BORROWER),
        "returned": T("returned", BORROWER),
        "renew": _renew,
        "renew_answer": _renew_answer,
        "recall": _recall,
        "report_lost": _report_lost,
    },
    "checked_out": {
        "returned": T("returned", BORROWER),
        "renew": _renew,
        "renew_answer": _renew_answer,
        "recall": _recall,
        "report_lost": _report_lost,
        "overdue": T("overdue", SYSTEM, guard=past_due),
    },
    "overdue": {
        "returned": T("returned", BORROWER),
        "renew": _renew,
        "renew_answer": _renew_answer,
        "recall": _recall,
        "report_lost": _report_lost,
    },
    "returned": {
        "shipped_return": T("shipped_return", BORROWER, effect=shipped_back),
        "report_lost": _report_lost,
    },
    "shipped_return": {
        "checked_in": T("completed", LENDER, effect=back_on_the_shelf),
        "report_lost": _report_lost,
    },
    # The lender settles the loss (a replacement or a charge, or nothing), or
    # the book turns up: at the borrowing library, which returns it as usual,
    # or at the lender, which checks it in.
    "lost": {
        "settle_lost": T("completed_without_return", LENDER, effect=settle_lost),
        "found": T("returned", BORROWER, effect=no_longer_lost),
        "checked_in": T("completed", LENDER, effect=back_on_the_shelf),
    },
    "unfilled": {
        "retry": T(NEXT_LENDER, BORROWER, effect=route),
        "cancel": _cancel,
        "expire": _expire,
    },
    "completed": {},
    "completed_without_return": {},
    "copy_completed": {},
    "cancelled": {},
}

# A message, and a library's own note, may be written while the request is
# open, whatever its status.
for _status, _actions in MACHINE.items():
    if _status not in TERMINAL:
        _actions["message"] = _message
        _actions["staff_note"] = _staff_note

ACTIONS = sorted({a for actions in MACHINE.values() for a in actions})
# The statuses the tick withdraws a request from once its day needed has passed.
EXPIRABLE = tuple(s for s, actions in MACHINE.items() if "expire" in actions)

# Parameters each action reads besides ``note`` (for forms and the docs).
ACTION_PARAMS: dict[str, tuple[str, ...]] = {
    "conditional": ("condition", "cost"),
    "unfilled": ("reason",),
    "loaned": ("due_date", "barcode", "courier", "tracking"),
    "shipped_return": ("courier", "tracking"),
    "renew": ("due_date",),
    "renew_answer": ("approve", "due_date"),
    "recall": ("due_date",),
    "cancel": ("reason",),
    "route": ("record_id", "lender"),
    "copy_completed": ("file",),
    "report_lost": ("reason",),
    "settle_lost": ("charge",),
    "message": ("to",),
}

STATUS_LABELS = {
    "new": _l("awaiting review"),
    "requested": _l("requested"),
    "expect_to_supply": _l("expected to supply"),
    "will_supply": _l("will supply"),
    "conditional": _l("condition to answer"),
    "loaned": _l("shipped"),
    "received": _l("received"),
    "checked_out": _l("with the patron"),
    "overdue": _l("overdue"),
    "returned": _l("returned by the patron"),
    "shipped_return": _l("on its way back"),
    "lost": _l("reported lost"),
    "completed": _l("completed"),
    "completed_without_return": _l("closed without return"),
    "copy_completed": _l("copy delivered"),
    "unfilled": _l("unfilled"),
    "cancelled": _l("cancelled"),
}

ACTION_LABELS = {
    "route": _l("Send to lenders"),
    "expect_to_supply": _l("Expect to supply"),
    "will_supply": _l("Will supply"),
    "conditional": _l("Supply with a condition"),
    "unfilled": _l("Cannot supply"),
    "loaned": _l("Shipped"),
    "copy_completed": _l("Copy sent"),
    "no_answer": _l("No answer in time"),
    "cancel": _l("Cancel"),
    "accept_condition": _l("Accept the condition"),
    "reject_condition": _l("Reject the condition"),
    "received": _l("Received"),
    "checked_out": _l("Checked out to the patron"),
    "returned": _l("Returned by the patron"),
    "shipped_return": _l("Shipped back"),
    "checked_in": _l("Checked in"),
    "renew": _l("Ask for a renewal"),
    "renew_answer": _l("Answer the renewal"),
    "recall": _l("Recall"),
    "overdue": _l("Overdue"),
    "retry": _l("Try again"),
    "expire": _l("Not needed any more (past the day needed)"),
    "report_lost": _l("Report the book lost"),
    "found": _l("The book has been found"),
    "settle_lost": _l("Settle the loss"),
    "message": _l("Send a message"),
    "lender_closed": _l("Passed on: the library asked is closed"),
    "lender_refused": _l("Passed on: the library's system refused the request"),
    "staff_note": _l("A note for our own staff"),
    "create": _l("Requested"),
}

# What came of asking a library, as the rota shows it.
OUTCOME_LABELS = {
    "waiting": _l("waiting its turn"),
    "asked": _l("asked"),
    "supplied": _l("supplied"),
    "unfilled": _l("could not supply"),
    "no_answer": _l("did not answer in time"),
    "closed": _l("closed: passed on"),
    "passed_over": _l("passed over as its turn came"),
    "refused": _l("its system refused the request"),
    "condition_rejected": _l("condition rejected"),
    "cancelled": _l("request cancelled"),
    "not_asked": _l("not asked"),
    "excluded": _l("left out"),
}

UNFILLED_LABELS = {
    "not_held": _l("not held"),
    "on_loan": _l("on loan"),
    "not_for_loan": _l("not for loan"),
    "damaged": _l("damaged"),
    "missing": _l("missing"),
    "policy": _l("our lending policy"),
    "other": _l("another reason"),
}

_extra_effects: dict[str, list[Effect]] = {}
after_transition: list[Callable] = []


def add_effect(action: str, fn: Effect) -> None:
    """Run ``fn(ctx)`` after the built-in effect of ``action`` (in the same
    transaction; raising a ServiceError refuses the action)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if fn not in _extra_effects.setdefault(action, []):
        _extra_effects[action].append(fn)


def has_extra_effect(action: str) -> bool:
    return bool(_extra_effects.get(action))


def transition(status: str, action: str) -> Transition | None:
    return MACHINE.get(status, {}).get(action)


def already_done(status: str, action: str) -> bool:
    """Whether ``action`` is not possible in ``status`` because the request is
    already where it leads (another system saying "shipped" twice)."""
    if transition(status, action) is not None:
        return False
    return any(status in t.targets and status != SAME
               for actions in MACHINE.values() for name, t in actions.items() if name == action)


def allowed_actions(request, roles: frozenset[str] | set[str]) -> list[str]:
    """The actions these roles may fire now, guards included (for forms)."""
    out = []
    for action, t in MACHINE.get(request.status, {}).items():
        if not (t.who & set(roles)):
            continue
        if t.guard is not None:
            try:
                t.guard(Context(request, action, frozenset(roles), {}, clock.today()))
            except (Conflict, BadRequest):
                continue
        out.append(action)
    return out


def check(ctx: Context) -> Transition:
    """The transition for this attempt, or the error that refuses it."""
    status = ctx.request.status
    t = transition(status, ctx.action)
    if t is None:
        if ctx.action not in ACTIONS:
            raise BadRequest(
                _(
                    "Unknown action '%(action)s'. Known actions: %(known)s.",
                    action=ctx.action,
                    known=", ".join(ACTIONS),
                ),
                field="action",
            )
        if ctx.action == "cancel" and status == "lost":
            raise Conflict(
                _(
                    "The item has been reported lost, so the request can no longer be cancelled: "
                    "the lender settles the loss, or the item turns up and goes back."
                )
            )
        if ctx.action == "cancel" and status in SHIPPED:
            raise Conflict(
                _(
                    "The item has been shipped, so the request can no longer be cancelled: "
                    "receive it and send it back to the lender."
                )
            )
        raise Conflict(
            _(
                "'%(action)s' is not possible while the request is %(status)s.",
                action=ctx.action,
                status=STATUS_LABELS.get(status, status),
            )
        )
    if not (t.who & ctx.roles):
        who = {
            BORROWER: _("the borrowing library"),
            LENDER: _("the current lender"),
            PATRON: _("the patron"),
            SYSTEM: _("the daily tick"),
        }
        raise Forbidden(
            _(
                "Only %(who)s may do '%(action)s' now.",
                who=" / ".join(str(who[w]) for w in sorted(t.who)),
                action=ctx.action,
            )
        )
    if t.guard is not None:
        t.guard(ctx)
    return t


def fire(ctx: Context) -> tuple[str, str]:
    """Check and apply the action; returns (from, to). The caller writes the
    event (``ctx.service.record``) in the same transaction."""
    t = check(ctx)
    before = ctx.request.status
    chosen = t.effect(ctx) if t.effect is not None else None
    for extra in _extra_effects.get(ctx.action, ()):
        extra(ctx)
    target = chosen or t.targets[0]
    if target == SAME:
        target = before
    if target not in STATUSES or (target not in t.targets and not (SAME in t.targets and target == before)):
        raise RuntimeError(f"{ctx.action} from {before} chose {target}, not one of {t.targets}")
    ctx.request.status = target
    return before, target
