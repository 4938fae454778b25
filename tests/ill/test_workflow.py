"""The state machine as configuration, on plain objects (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ill import workflow
from ill.errors import ServiceError
from ill.workflow import BORROWER, LENDER, MACHINE, PATRON, SAME, STATUSES, SYSTEM, TERMINAL, Context

DAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _machine_alone(monkeypatch):
    """The table on its own: effects other packages attach (the delivered
    file of copy_completed) are theirs to test."""
    monkeypatch.setattr(workflow, "_extra_effects", {})


@dataclass
class FakeRequest:
    status: str = "new"
    service: str = "loan"
    due_date: date | None = None
    renewal_due: date | None = None
    renewals: int = 0
    condition: str = ""
    cost: str = ""
    recalled_on: date | None = None
    close_reason: str = ""
    answer_due: date | None = None
    lost_on: date | None = None
    charge: str = ""
    needed_by: date | None = None
    item_barcode: str = ""
    current_lender_id: int | None = 2
    patron_id: int | None = 1


class FakeService:
    """Stands in for the database: a rota of ``lenders`` libraries."""

    def __init__(self, lenders: int = 2):
        self.lenders = lenders
        self.left = 0

    def advance(self, ctx, outcome, detail=""):
        if self.left > 0:
            self.left -= 1
            return "requested"
        return "unfilled"

    def route(self, ctx):
        self.left = self.lenders
        return self.advance(ctx, "asked")

    def default_due_date(self, ctx):
        return ctx.day + timedelta(days=28)

    def supplied(self, ctx):
        pass

    def withdraw(self, ctx):
        pass

    def check_renewal_allowed(self, ctx):
        pass

    def default_renewal_due(self, ctx):
        return (ctx.request.due_date or ctx.day) + timedelta(days=28)

    def price_loan(self, ctx):
        pass

    def copy_status(self, ctx, status):
        self.copies = getattr(self, "copies", []) + [(ctx.request.item_barcode, status)]


def params_for(action: str, req: FakeRequest, day: date, approve: bool) -> dict:
    base = req.due_date or day
    return {
        "conditional": {"condition": "library use only", "cost": "10000"},
        "unfilled": {"reason": "on_loan"},
        "loaned": {"due_date": (day + timedelta(days=14)).isoformat()},
        "renew": {"due_date": (base + timedelta(days=30)).isoformat()},
        "renew_answer": {"approve": approve},
        "cancel": {"reason": "no longer needed"},
        "report_lost": {"reason": "lost on the bus"},
        "settle_lost": {"charge": "a replacement copy"},
        "message": {"note": "could you send it by courier?"},
        "staff_note": {"note": "patron phoned: collects Monday"},
    }.get(action, {})


def fire(req, action, roles, day=DAY, service=None, params=None):
    ctx = Context(
        req,
        action,
        frozenset(roles),
        params if params is not None else params_for(action, req, day, True),
        day,
        service=service or FakeService(),
    )
    return workflow.fire(ctx)


def test_every_status_has_its_actions_and_every_target_is_a_status():
    assert set(MACHINE) == set(STATUSES)
    for status, actions in MACHINE.items():
        for action, t in actions.items():
            for target in t.targets:
                assert target == SAME or target in STATUSES, (status, action, target)
            assert t.who <= {BORROWER, LENDER, PATRON, SYSTEM}
    for status in TERMINAL:
        assert MACHINE[status] == {}


def test_every_status_is_reachable_and_every_open_one_can_end():
    edges = {s: {(s if x == SAME else x) for t in a.values() for x in t.targets} for s, a in MACHINE.items()}
    seen, todo = {"new"}, ["new"]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(STATUSES)
    for status in STATUSES:
        reach, todo = {status}, [status]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in reach:
                    reach.add(nxt)
                    todo.append(nxt)
        assert reach & set(TERMINAL), status


def test_the_full_loan_path():
    req = FakeRequest()
    path = [
        ("route", SYSTEM, "requested"),
        ("will_supply", LENDER, "will_supply"),
        ("loaned", LENDER, "loaned"),
        ("received", BORROWER, "received"),
        ("checked_out", BORROWER, "checked_out"),
        ("returned", BORROWER, "returned"),
        ("shipped_return", BORROWER, "shipped_return"),
        ("checked_in", LENDER, "completed"),
    ]
    for action, role, expected in path:
        fire(req, action, {role})
        assert req.status == expected
    assert req.due_date == DAY + timedelta(days=14)


def test_the_copy_path_and_that_loans_and_copies_keep_apart():
    req = FakeRequest(status="will_supply", service="copy")
    with pytest.raises(ServiceError) as exc:
        fire(req, "loaned", {LENDER})
    assert exc.value.status == 409
    fire(req, "copy_completed", {LENDER})
    assert req.status == "copy_completed"
    loan = FakeRequest(status="will_supply")
    with pytest.raises(ServiceError):
        fire(loan, "copy_completed", {LENDER})


def test_wrong_party_is_forbidden_and_wrong_state_is_a_conflict():
    req = FakeRequest(status="requested")
    with pytest.raises(ServiceError) as exc:
        fire(req, "will_supply", {BORROWER})
    assert exc.value.status == 403
    with pytest.raises(ServiceError) as exc:
        fire(req, "received", {BORROWER})
    assert exc.value.status == 409
    with pytest.raises(ServiceError) as exc:
        fire(req, "dance", {BORROWER})
    assert exc.value.status == 400
    assert req.status == "requested"


def test_unfilled_moves_to_the_next_lender_then_to_unfilled():
    service = FakeService(lenders=2)
    req = FakeRequest()
    fire(req, "route", {SYSTEM}, service=service)
    fire(req, "unfilled", {LENDER}, service=service)
    assert req.status == "requested"
    fire(req, "unfilled", {LENDER}, service=service)
    assert req.status == "unfilled"
    with pytest.raises(ServiceError) as exc:
        fire(req, "unfilled", {LENDER}, service=service, params={"reason": "bored"})
    assert exc.value.status == 409
    fire(req, "retry", {BORROWER}, service=service)
    assert req.status == "requested"


def test_unfilled_needs_a_known_reason():
    req = FakeRequest(status="requested")
    for params in ({}, {"reason": "bored"}):
        with pytest.raises(ServiceError) as exc:
            fire(req, "unfilled", {LENDER}, params=params)
        assert exc.value.status == 400
    assert req.status == "requested"


def test_conditions():
    req = FakeRequest(status="requested")
    with pytest.raises(ServiceError):
        fire(req, "conditional", {LENDER}, params={})
    fire(req, "conditional", {LENDER})
    assert (req.status, req.condition, req.cost) == ("conditional", "library use only", "10000")
    fire(req, "accept_condition", {BORROWER})
    assert req.status == "will_supply"
    req = FakeRequest(status="conditional")
    fire(req, "reject_condition", {BORROWER}, service=FakeService(lenders=0))
    assert req.status == "unfilled"


def test_renewal_asked_and_answered():
    req = FakeRequest(status="checked_out", due_date=DAY + timedelta(days=3))
    with pytest.raises(ServiceError):
        fire(req, "renew_answer", {LENDER})  # nothing asked yet
    fire(req, "renew", {BORROWER})
    assert req.renewal_due == DAY + timedelta(days=33) and req.status == "checked_out"
    with pytest.raises(ServiceError):
        fire(req, "renew", {BORROWER})  # one at a time
    fire(req, "renew_answer", {LENDER}, params={"approve": "true"})
    assert (req.due_date, req.renewal_due, req.renewals) == (DAY + timedelta(days=33), None, 1)
    fire(req, "renew", {BORROWER})
    fire(req, "renew_answer", {LENDER}, params={"approve": False})
    assert (req.due_date, req.renewal_due, req.renewals) == (DAY + timedelta(days=33), None, 1)


def test_overdue_only_past_the_due_date_and_a_renewal_brings_it_back():
    req = FakeRequest(status="checked_out", due_date=DAY)
    with pytest.raises(ServiceError):
        fire(req, "overdue", {SYSTEM})
    fire(req, "overdue", {SYSTEM}, day=DAY + timedelta(days=1))
    assert req.status == "overdue"
    with pytest.raises(ServiceError) as exc:
        fire(req, "overdue", {LENDER}, day=DAY + timedelta(days=1))
    assert exc.value.status == 409
    fire(req, "renew", {BORROWER}, day=DAY + timedelta(days=1))
    fire(req, "renew_answer", {LENDER}, day=DAY + timedelta(days=1), params={"approve": True})
    assert req.status == "checked_out"


def test_recall_keeps_the_status_and_sets_the_day():
    req = FakeRequest(status="checked_out", due_date=DAY + timedelta(days=20))
    fire(req, "recall", {LENDER}, params={"due_date": (DAY + timedelta(days=5)).isoformat()})
    assert (req.status, req.recalled_on, req.due_date) == ("checked_out", DAY, DAY + timedelta(days=5))


@pytest.mark.parametrize("status", ["new", "requested", "expect_to_supply", "will_supply", "conditional", "unfilled"])
def test_cancel_before_shipping_by_patron_or_borrower(status):
    for role in (PATRON, BORROWER):
        req = FakeRequest(status=status)
        fire(req, "cancel", {role})
        assert req.status == "cancelled" and req.close_reason == "no longer needed"
    req = FakeRequest(status=status)
    with pytest.raises(ServiceError) as exc:
        fire(req, "cancel", {LENDER})
    assert exc.value.status == 403


@pytest.mark.parametrize("status", workflow.SHIPPED)
def test_cancel_after_shipping_is_refused_with_a_reason(status):
    req = FakeRequest(status=status)
    with pytest.raises(ServiceError) as exc:
        fire(req, "cancel", {BORROWER})
    assert exc.value.status == 409 and "shipped" in exc.value.message


@pytest.mark.parametrize("status", workflow.SHIPPED[:-1])
def test_a_loan_lost_after_shipping_is_settled_by_the_lender_and_closes_without_return(status):
    req = FakeRequest(status=status, due_date=DAY, renewal_due=DAY + timedelta(days=20))
    with pytest.raises(ServiceError) as exc:
        fire(req, "report_lost", {BORROWER}, params={"reason": "  "})
    assert exc.value.field == "reason" and req.status == status and req.lost_on is None
    with pytest.raises(ServiceError):
        fire(req, "report_lost", {LENDER}, params={"reason": "gone"})
    assert fire(req, "report_lost", {BORROWER}, params={"reason": "lost on the bus"}) == (status, "lost")
    # a renewal waiting for its answer is moot once the book is gone
    assert req.lost_on == DAY and req.close_reason == "lost on the bus" and req.renewal_due is None
    assert workflow.allowed_actions(req, {BORROWER}) == ["found", "message", "staff_note"]
    assert set(workflow.allowed_actions(req, {LENDER})) == {"checked_in", "settle_lost", "message", "staff_note"}
    # no cancelling a lost book: the lender settles the loss, or it turns up
    with pytest.raises(ServiceError) as exc:
        fire(req, "cancel", {BORROWER})
    assert exc.value.status == 409 and "reported lost" in exc.value.message
    assert fire(req, "settle_lost", {LENDER}, params={"charge": " Rp 150.000 "}) == ("lost", "completed_without_return")
    assert req.charge == "Rp 150.000" and "completed_without_return" in TERMINAL
    assert workflow.allowed_actions(req, {BORROWER, LENDER, PATRON, SYSTEM}) == []


def test_a_lost_book_that_turns_up_goes_back_the_usual_way():
    req = FakeRequest(status="checked_out", due_date=DAY)
    fire(req, "report_lost", {BORROWER})
    # found at the borrowing library: it is returned, then shipped back as any loan
    assert fire(req, "found", {BORROWER}) == ("lost", "returned")
    assert req.lost_on is None and req.close_reason == ""
    fire(req, "shipped_return", {BORROWER})
    # lost on its way back, then it reaches the lender after all
    fire(req, "report_lost", {BORROWER}, params={"reason": "the courier has no trace of it"})
    assert fire(req, "checked_in", {LENDER}) == ("lost", "completed")
    assert req.lost_on is None and req.close_reason == ""


def test_a_charge_has_a_length_limit_and_is_optional():
    req = FakeRequest(status="lost", lost_on=DAY)
    with pytest.raises(ServiceError) as exc:
        fire(req, "settle_lost", {LENDER}, params={"charge": "x" * 101})
    assert exc.value.field == "charge" and req.status == "lost"
    fire(req, "settle_lost", {LENDER}, params={})
    assert req.status == "completed_without_return" and req.charge == ""


@pytest.mark.parametrize("status", ["new", "requested", "expect_to_supply", "conditional", "unfilled"])
def test_a_request_not_supplied_by_the_day_it_was_needed_is_withdrawn_by_the_tick(status):
    req = FakeRequest(status=status, needed_by=DAY)
    with pytest.raises(ServiceError):  # the day itself still counts
        fire(req, "expire", {SYSTEM}, day=DAY)
    with pytest.raises(ServiceError):  # the tick's action alone
        fire(req, "expire", {BORROWER}, day=DAY + timedelta(days=1))
    assert req.status == status
    assert fire(req, "expire", {SYSTEM}, day=DAY + timedelta(days=1)) == (status, "cancelled")


def test_no_day_needed_or_a_lender_that_has_promised_it_keeps_the_request():
    with pytest.raises(ServiceError):
        fire(FakeRequest(status="requested"), "expire", {SYSTEM}, day=DAY + timedelta(days=400))
    for status in ("will_supply", "loaned", "checked_out"):
        req = FakeRequest(status=status, needed_by=DAY)
        with pytest.raises(ServiceError):
            fire(req, "expire", {SYSTEM}, day=DAY + timedelta(days=5))
        assert req.status == status


def test_the_copy_sent_is_followed_in_the_catalogue_on_loan_back_or_lost():
    svc = FakeService()
    req = FakeRequest(status="will_supply")
    fire(req, "loaned", {LENDER}, service=svc, params={"barcode": " B-17 "})
    assert req.item_barcode == "B-17" and svc.copies == [("B-17", "on_loan")]
    for action in ("received", "returned", "shipped_return"):
        fire(req, action, {BORROWER}, service=svc)
    fire(req, "checked_in", {LENDER}, service=svc)
    assert svc.copies[-1] == ("B-17", "available")
    lost = FakeRequest(status="checked_out", item_barcode="B-18")
    fire(lost, "report_lost", {BORROWER}, service=svc)
    fire(lost, "settle_lost", {LENDER}, service=svc)
    assert svc.copies[-1] == ("B-18", "lost")
    # no copy named: the catalogue is left as its library's statuses say
    quiet, before = FakeRequest(status="will_supply"), len(svc.copies)
    fire(quiet, "loaned", {LENDER}, service=svc)
    assert quiet.item_barcode == "" and len(svc.copies) == before


def test_allowed_actions_follow_roles_and_guards():
    req = FakeRequest(status="checked_out", due_date=DAY + timedelta(days=5))
    assert set(workflow.allowed_actions(req, {BORROWER})) == {"returned", "renew", "report_lost", "message",
                                                              "staff_note"}
    assert set(workflow.allowed_actions(req, {LENDER})) == {"recall", "message", "staff_note"}  # no renewal pending
    assert workflow.allowed_actions(FakeRequest(status="completed"), {BORROWER, LENDER}) == []


def test_extra_effects_run_in_the_transition_and_can_refuse_it():
    calls = []

    def needs_file(ctx):
        calls.append(ctx.action)
        if not ctx.params.get("file"):
            raise workflow.BadRequest("no file")

    workflow.add_effect("copy_completed", needs_file)
    req = FakeRequest(status="will_supply", service="copy")
    with pytest.raises(ServiceError):
        fire(req, "copy_completed", {LENDER}, params={})
    assert req.status == "will_supply"
    fire(req, "copy_completed", {LENDER}, params={"file": "x.pdf"})
    assert req.status == "copy_completed" and calls == ["copy_completed", "copy_completed"]


ROLE_SETS = [frozenset({r}) for r in (BORROWER, LENDER, PATRON, SYSTEM)]


@settings(max_examples=300, deadline=None)
@given(
    service=st.sampled_from(["loan", "copy"]),
    lenders=st.integers(0, 3),
    steps=st.lists(
        st.tuples(st.sampled_from(workflow.ACTIONS), st.sampled_from(ROLE_SETS), st.booleans(), st.integers(0, 40)),
        max_size=40,
    ),
)
def test_random_actions_never_reach_an_undefined_state(service, lenders, steps):
    req = FakeRequest(service=service)
    svc = FakeService(lenders)
    history = []
    for action, roles, approve, days in steps:
        day = DAY + timedelta(days=days)
        before = req.status
        ctx = Context(req, action, roles, params_for(action, req, day, approve), day, service=svc)
        try:
            was, now = workflow.fire(ctx)
        except ServiceError:
            assert req.status == before
            continue
        t = MACHINE[was][action]
        assert now in STATUSES
        assert now in t.targets or (SAME in t.targets and now == was)
        assert t.who & roles
        history.append((was, action, now))
    assert req.status in STATUSES
    # each successful transition starts where the previous one ended
    for (_, _, end), (start, _, _) in zip(history, history[1:], strict=False):
        assert end == start


PAIRS = [(s, a) for s, actions in MACHINE.items() for a in actions]


@pytest.mark.parametrize("status, action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_transition_fires_for_its_party_only(status, action):
    t = MACHINE[status][action]
    service = "copy" if action == "copy_completed" else "loan"
    day = DAY + timedelta(days=1) if action == "overdue" else DAY

    def fresh():
        return FakeRequest(status=status, service=service, due_date=DAY, needed_by=DAY - timedelta(days=1),
                           renewal_due=DAY + timedelta(days=20) if action == "renew_answer" else None)

    req = fresh()
    before, after = fire(req, action, t.who, day=day, service=FakeService(lenders=1))
    assert before == status
    assert after in t.targets or (SAME in t.targets and after == status)
    for role in {BORROWER, LENDER, PATRON, SYSTEM} - t.who:
        other = fresh()
        with pytest.raises(ServiceError) as exc:
            fire(other, action, {role}, day=day, service=FakeService(lenders=1))
        assert exc.value.status == 403
        assert other.status == status
