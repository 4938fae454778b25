"""How each agreement was used: requests between its parties while it ran."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from agreements.models import Agreement
from agreements.traffic import Traffic, between
from ill import clock
from tests.factories import login


def test_between_counts_each_borrower_and_lender_among_the_parties():
    rows = [(1, None, None), (1, 2, "unfilled"), (1, 3, "supplied"), (1, 2, "supplied"), (2, 1, "no_answer"),
            (1, 4, "supplied"),  # 4 is not a party
            (1, 3, "waiting"), (1, 3, "excluded")]  # never asked
    pairs = between(rows, {1, 2, 3})
    assert pairs == {(1, 2): Traffic(received=2, filled=1, unfilled=1), (1, 3): Traffic(received=1, filled=1),
                     (2, 1): Traffic(received=1, unfilled=1)}


def _agreement(net, *codes):
    ids = {net.libs[c].id for c in codes}
    for agreement in net.session.scalars(select(Agreement)):
        if {p.partner_id for p in agreement.parties} == ids:
            return agreement
    raise AssertionError(codes)


def test_an_agreement_shows_what_passed_between_its_parties(net):
    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "unfilled", reason="on_loan").status_code == 200
    assert net.act("b", rid, "loaned").status_code == 200
    with_a, with_b = _agreement(net, "HOME", "A"), _agreement(net, "HOME", "B")
    usage = net.call("coord", "GET", f"/agreements/{with_a.id}").get_json()["usage"]
    assert usage["until"] == clock.today().isoformat() and usage["since"] == with_a.start_date.isoformat()
    assert usage["pairs"] == [{"borrower": "HOME", "lender": "A", "asked": 1, "supplied": 0, "not_supplied": 1}]
    usage = net.call("coord", "GET", f"/agreements/{with_b.id}").get_json()["usage"]
    assert usage["pairs"] == [{"borrower": "HOME", "lender": "B", "asked": 1, "supplied": 1, "not_supplied": 0}]
    # X's agreement with A saw nothing of it
    assert net.call("coord", "GET", f"/agreements/{_agreement(net, 'X', 'A').id}").get_json()["usage"]["pairs"] == []
    login(net.client, net.users["coord"].email)
    page = net.client.get(f"/agreements/{with_b.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Use of this agreement" in page and '<table id="usage">' in page
    assert "<td>HOME</td><td>B</td><td>1</td><td>1</td><td>0</td>" in page


def test_an_agreement_counts_only_its_own_period(net):
    expired = _agreement(net, "HOME", "C")  # ended 30 days ago
    usage = net.call("coord", "GET", f"/agreements/{expired.id}").get_json()["usage"]
    assert usage["until"] == expired.end_date.isoformat()
    rid = net.create().get_json()["id"]  # today: after it ended, C is left out anyway
    assert rid and usage["pairs"] == []
    future = net.make.loan_agreement(net.libs["HOME"], net.libs["D"], start=clock.today() + timedelta(days=10))
    net.make.commit()
    usage = net.call("coord", "GET", f"/agreements/{future.id}").get_json()["usage"]
    assert usage["pairs"] == [] and date.fromisoformat(usage["until"]) <= clock.today()
