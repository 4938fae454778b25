"""Renewals: the borrowing library or, once the book is lent to them, the
patron asks; without a day, for one more loan period; never of a recalled
book. The lender's answer is told to the patron and the borrowing library."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ill.notify import Notice
from tests.ill.test_loan_pages import _login


def _told(net, kind: str) -> list[Notice]:
    net.session.expire_all()
    return list(net.session.scalars(select(Notice).where(Notice.kind == kind).order_by(Notice.id)))


def _lent_to_patron(net, who="patron") -> int:
    rid = net.create(who=who).get_json()["id"]
    assert net.act("a", rid, "loaned").status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    return rid


def test_the_patron_asks_for_one_more_loan_period_and_hears_the_answer(net):
    rid = _lent_to_patron(net)
    r = net.act("patron", rid, "renew")
    assert r.status_code == 409 and "once the book has been lent to you" in r.get_json()["error"]["message"]
    assert "renew" not in net.get("patron", rid).get_json()["actions"]
    assert net.act("home", rid, "checked_out").status_code == 200
    assert "renew" in net.get("patron", rid).get_json()["actions"]
    due = date.fromisoformat(net.get("patron", rid).get_json()["due_date"])
    assert net.act("patron", rid, "renew").status_code == 200
    asked = net.get("a", rid).get_json()
    assert asked["renewal_due"] == (due + timedelta(days=21)).isoformat()  # A's loan period
    (to_lender,) = _told(net, "renewal_asked")
    assert to_lender.user_id == net.users["a"].id
    # the book is the borrowing library's charge: it hears that its patron asked
    (to_home,) = _told(net, "renewal_asked_by_patron")
    assert to_home.user_id == net.users["home"].id and "Siti" in to_home.body and "Perpustakaan A" in to_home.body
    # the lender agrees: the patron and the borrowing library hear the new due date
    assert net.act("a", rid, "renew_answer", approve=True).status_code == 200
    (patron,) = _told(net, "renewal_answered")
    assert patron.user_id == net.users["patron"].id and "has renewed" in patron.body
    (library,) = _told(net, "renewal_answered_library")
    assert library.user_id == net.users["home"].id and "Siti" in library.body
    assert net.get("patron", rid).get_json()["due_date"] == asked["renewal_due"]
    # A allows one renewal: the second is refused, and the request stays as it was
    version = net.get("patron", rid).get_json()["version"]
    r = net.act("patron", rid, "renew")
    assert r.status_code == 409 and "no more renewals" in r.get_json()["error"]["message"]
    assert net.get("patron", rid).get_json()["version"] == version


def test_a_refused_renewal_is_told_and_a_recalled_book_cannot_be_renewed(net):
    rid = _lent_to_patron(net)
    assert net.act("home", rid, "checked_out").status_code == 200
    assert net.act("patron", rid, "renew").status_code == 200
    assert net.act("a", rid, "renew_answer", approve=False).status_code == 200
    (patron,) = _told(net, "renewal_answered")
    assert "could not renew" in patron.body and "please return it by" in patron.body
    other = _lent_to_patron(net, who="patron2")
    assert net.act("home", other, "checked_out").status_code == 200
    assert net.act("a", other, "recall").status_code == 200
    for who in ("home", "patron2"):
        r = net.act(who, other, "renew", due_date=(date.today() + timedelta(days=90)).isoformat())
        assert r.status_code == 409 and "recalled" in r.get_json()["error"]["message"], who
    assert net.get("home", other).get_json()["renewal_due"] is None
    # a refusal uses up nothing: the patron's page offers the renewal again, its day optional
    _login(net, "patron")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="action-renew"' in page and "Until (empty: one more loan period)" in page
    _login(net, "patron2")
    assert 'id="action-renew"' not in net.client.get(f"/requests/{other}").get_data(as_text=True)


def test_a_renewal_the_borrowing_library_asks_itself_is_not_told_back_to_it(net):
    rid = _lent_to_patron(net)
    assert net.act("home", rid, "renew").status_code == 200
    assert len(_told(net, "renewal_asked")) == 1
    assert _told(net, "renewal_asked_by_patron") == []
