"""What the record page asks: may this library be asked, and if not why."""

from datetime import date

from ill.routing import requestability


def test_requestability_per_holding_library(net):
    home, a, b, c, d = (net.libs[k].id for k in ("HOME", "A", "B", "C", "D"))
    answer = requestability(net.session, home, net.cluster.id, "loan", date.today())
    assert answer[a][0] is True and answer[b][0] is True
    assert answer[c][0] is False and "expired" in answer[c][1]
    assert answer[d] == (False, "no cooperation agreement with the borrowing library")


def test_requestability_without_a_borrower_judges_the_copies(net):
    cluster = net.make.cluster_with_holdings({net.libs["A"]: ["on_loan"], net.libs["B"]: ["not_for_loan"]})
    loan = requestability(net.session, None, cluster.id, "loan", date.today())
    assert loan[net.libs["A"].id] == (False, "all copies on loan")
    copy = requestability(net.session, None, cluster.id, "copy", date.today())
    assert copy[net.libs["B"].id][0] is True


def test_requestability_for_the_home_library(net):
    cluster = net.make.cluster_with_holdings({net.libs["HOME"]: ["available"], net.libs["A"]: ["available"]})
    answer = requestability(net.session, net.libs["HOME"].id, cluster.id, "loan", date.today())
    assert answer[net.libs["HOME"].id][0] is False and "desk" in answer[net.libs["HOME"].id][1]
    assert answer[net.libs["A"].id][0] is True
