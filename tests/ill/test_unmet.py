"""What the network could not supply: the titles of requests that became
unfilled and were never filled, most asked first, with who asked and why,
for shared acquisition."""

from __future__ import annotations

from tests.ill.test_loan_pages import _login


def _decline_all(net, rid, reason="on_loan"):
    """Every lender of the rota says no; the request is left unfilled."""
    for _ in range(5):
        body = net.get("home", rid).get_json()
        if body["status"] == "unfilled":
            return
        lender = body["current_lender"].lower()
        assert net.act(lender, rid, "unfilled", reason=reason).status_code == 200
    raise AssertionError("still routed")


def test_the_titles_no_library_supplied_and_why(net):
    first = net.create().get_json()["id"]
    _decline_all(net, first)
    assert net.act("home", first, "cancel").status_code == 200  # given up: still not supplied
    second = net.create(who="patron2").get_json()["id"]
    _decline_all(net, second, reason="not_held")  # left unfilled
    # a third for the same record is lent after all: it does not count
    lent = net.create(who="xpatron").get_json()["id"]
    assert net.act("a", lent, "loaned").status_code == 200  # X's only lender
    # unfilled, then retried and lent: not counted either
    retried = net.create().get_json()["id"]
    _decline_all(net, retried)
    r = net.act("home", retried, "retry", lender="A")
    assert r.status_code == 200, r.get_json()
    assert net.act("a", retried, "loaned").status_code == 200
    # a citation request sent by hand to B, which has not got it
    r = net.call("patron", "POST", "/requests", {"service": "loan", "citation": {
        "title": "Kitab Langka", "author": "Anonim"}})
    assert r.status_code == 201, r.get_json()
    cited = r.get_json()["id"]
    assert net.act("home", cited, "route", lender="B").status_code == 200
    assert net.act("b", cited, "unfilled", reason="not_held").status_code == 200

    body = net.call("home", "GET", "/unmet").get_json()
    titles = body["titles"]
    assert [t["title"] for t in titles] == [net.cluster.title, "Kitab Langka"]
    record, citation = titles
    assert record["record_id"] == net.cluster.id and record["requests"] == 2
    assert record["libraries"] == {"HOME": 2} and record["holders"] == 4
    reasons = {r["reason"]: r["count"] for r in record["reasons"]}
    assert reasons["a lender said: on loan"] == 2 and reasons["a lender said: not held"] == 2
    assert any(r.startswith("a holding library could not be asked") for r in reasons)  # C expired, D none
    assert citation["record_id"] is None and citation["author"] == "Anonim"
    assert citation["reasons"] == [{"reason": "a lender said: not held", "count": 1}]

    # a library sees its own requests only; a coordinator all, or one library's
    assert net.call("x", "GET", "/unmet").get_json()["titles"] == []
    assert len(net.call("coord", "GET", "/unmet").get_json()["titles"]) == 2
    assert net.call("coord", "GET", "/unmet?library=X").get_json()["titles"] == []
    assert net.call("coord", "GET", "/unmet?library=NOPE").status_code == 400
    assert net.call("home", "GET", "/unmet?since=2020-01-01&until=2020-12-31").get_json()["titles"] == []
    assert net.call("patron", "GET", "/unmet").status_code == 403

    # the page and its spreadsheet
    _login(net, "home")
    page = net.client.get("/facts/unmet").get_data(as_text=True)
    assert "Kitab Langka" in page and f'data-key="record:{net.cluster.id}"' in page
    csv = net.client.get("/facts/unmet.csv").get_data(as_text=True)
    assert "why_not_supplied" in csv.splitlines()[0] and "HOME:2" in csv
    assert 'id="unmet-link"' in net.client.get("/facts/").get_data(as_text=True)
