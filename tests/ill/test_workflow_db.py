"""Random action sequences against the real tables: the status is always one
the machine knows, every transition wrote exactly one event, and the version
counts the transitions."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from agreements.calendar import working_days_after
from ill import clock, workflow
from ill import requests_service as service
from ill.errors import ServiceError
from ill.extensions import db
from ill.models import LoanRequest, RequestEvent

ACTORS = ["patron", "home", "a", "b", None]  # None: the tick


def _params(action: str, req: LoanRequest, day: date, approve: bool) -> dict:
    base = req.due_date or day
    return {
        "conditional": {"condition": "library use only"},
        "unfilled": {"reason": "on_loan"},
        "renew": {"due_date": (base + timedelta(days=30)).isoformat()},
        "renew_answer": {"approve": approve},
        "cancel": {"reason": "no longer needed"},
    }.get(action, {})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTORS), st.sampled_from(workflow.ACTIONS), st.booleans(), st.integers(0, 60)),
        min_size=1,
        max_size=25,
    )
)
def test_random_actions_keep_status_events_and_version_in_step(net, steps):
    patron = net.make.user("patron", net.libs["HOME"])
    net.make.commit()
    req = service.create(db.session, patron, {"record_id": net.cluster.id, "service": "loan"})
    db.session.commit()
    rid = req.id
    users = {"patron": patron, "home": net.users["home"], "a": net.users["a"], "b": net.users["b"]}
    transitions = 2  # create and the routing at once
    for who, action, approve, days in steps:
        req = db.session.get(LoanRequest, rid)
        day = clock.today() + timedelta(days=days)
        user = users.get(who) if who else None
        try:
            service.fire(
                db.session, user, req, action, _params(action, req, day, approve), req.version if user else None, day
            )
            db.session.commit()
            transitions += 1
        except ServiceError:
            db.session.rollback()
        db.session.expire_all()
        req = db.session.get(LoanRequest, rid)
        assert req.status in workflow.STATUSES
        events = db.session.scalar(select(func.count(RequestEvent.id)).where(RequestEvent.request_id == rid))
        assert events == transitions
        assert req.version == transitions
    # finish it off so the next example's patron starts clean
    req = db.session.get(LoanRequest, rid)
    if "cancel" in workflow.MACHINE[req.status]:
        service.fire(db.session, users["home"], req, "cancel", {}, req.version)
        db.session.commit()


def test_each_lender_answers_within_its_agreement_s_working_days(net):
    """A's agreement gives it 3 working days, B's 2: the deadline is each one's
    own, not the default 3 for all (as it was for every lender routing chose)."""
    today = clock.today()
    first = net.create().get_json()["id"]
    second = net.create(who="patron2").get_json()["id"]  # the other lender, the first one being busy
    deadlines = {}
    for rid in (first, second):
        seen = net.get("coord", rid).get_json()
        deadlines[seen["current_lender"]] = seen["answer_due"]
    assert deadlines == {"A": working_days_after(today, 3, holidays=()).isoformat(),
                         "B": working_days_after(today, 2, holidays=()).isoformat()}
