"""Two answers to the same request at once: exactly one wins, on SQLite and
on PostgreSQL, and the loser gets a 409 with a message."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ill import requests_service as service
from ill.accounts import User
from ill.errors import Conflict
from ill.extensions import db
from ill.models import LoanRequest, RequestEvent


def _request(net) -> int:
    r = net.create()
    assert r.status_code == 201
    return r.get_json()["id"]


def _events(rid: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(RequestEvent.id)).where(RequestEvent.request_id == rid))


def test_two_sessions_answer_from_the_same_version(net):
    rid = _request(net)
    uid = net.users["a"].id
    with Session(db.engine) as one, Session(db.engine) as two:
        req1, req2 = one.get(LoanRequest, rid), two.get(LoanRequest, rid)
        assert req1.version == req2.version
        seen = req1.version
        service.fire(one, one.get(User, uid), req1, "will_supply", {}, seen)
        one.commit()
        try:
            service.fire(two, two.get(User, uid), req2, "unfilled", {"reason": "on_loan"}, seen)
            two.commit()
        except Conflict as exc:
            two.rollback()
            assert exc.status == 409 and "first" in exc.message
        else:
            raise AssertionError("the second, stale answer was accepted")
    db.session.expire_all()
    req = db.session.get(LoanRequest, rid)
    assert req.status == "will_supply" and req.version == seen + 1
    assert _events(rid) == 3  # create, route, will_supply


def test_two_threads_race_and_exactly_one_wins(net, app):
    rid = _request(net)
    uid = net.users["a"].id
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, str] = {}

    def answer(action: str, params: dict):
        with app.app_context(), Session(db.engine) as session:
            req = session.get(LoanRequest, rid)
            user = session.get(User, uid)
            seen = req.version
            barrier.wait()
            try:
                service.fire(session, user, req, action, params, seen)
                session.commit()
                results[action] = "won"
            except Conflict:
                session.rollback()
                results[action] = "conflict"

    threads = [
        threading.Thread(target=answer, args=("will_supply", {})),
        threading.Thread(target=answer, args=("unfilled", {"reason": "not_held"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == ["conflict", "won"], results
    winner = next(a for a, r in results.items() if r == "won")
    db.session.expire_all()
    req = db.session.get(LoanRequest, rid)
    assert req.status == ("will_supply" if winner == "will_supply" else "requested")
    assert _events(rid) == 3
    assert req.version == 3


def test_two_api_answers_with_the_same_version(net):
    rid = _request(net)
    seen = net.get("a", rid).get_json()["version"]
    first = net.act("a", rid, "will_supply", version=seen)
    second = net.act("a", rid, "unfilled", version=seen, reason="on_loan")
    assert first.status_code == 200 and second.status_code == 409
    assert second.get_json()["error"]["message"]
    assert net.get("a", rid).get_json()["status"] == "will_supply"


def _create_at_once(app, uid: int, bodies: list[dict]) -> list[str]:
    """Each body sent by the same user from a thread and session of its own,
    released together; what became of each: 'created' or the refusal's code."""
    barrier = threading.Barrier(len(bodies), timeout=30)
    results: list[str] = []

    def send(body: dict):
        with app.app_context(), Session(db.engine) as session:
            user = session.get(User, uid)
            _ = user.library.max_open_requests  # read before the race, as a signed-in page has
            barrier.wait()
            try:
                service.create(session, user, dict(body))
                session.commit()
                results.append("created")
            except Conflict as exc:
                session.rollback()
                results.append(exc.code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results)


def _open_requests(uid: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(LoanRequest.id)).where(LoanRequest.patron_id == uid))


def test_two_requests_at_once_cannot_both_pass_the_limit(net, app):
    net.libs["HOME"].max_open_requests = 1
    net.make.commit()
    uid = net.users["patron"].id
    bodies = [{"citation": {"title": "Naskah Melayu"}}, {"citation": {"title": "Hikayat Aceh"}}]
    assert _create_at_once(app, uid, bodies) == ["created", "limit"]
    assert _open_requests(uid) == 1


def test_a_request_sent_twice_at_once_is_made_once(net, app):
    """A double click on the form's button: one request, the other refused as a duplicate."""
    uid = net.users["patron"].id
    body = {"record_id": net.cluster.id, "service": "loan"}
    assert _create_at_once(app, uid, [body, body]) == ["created", "duplicate"]
    assert _open_requests(uid) == 1
