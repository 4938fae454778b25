"""Queues page through all of a library's requests (none is hidden past the
newest 200) and find one by its number, its title or, for those who may see
who asked, its patron."""

from __future__ import annotations

from ill.extensions import db
from ill.models import LoanRequest
from tests.ill.test_loan_pages import _login


def _ids(body) -> list[int]:
    return [r["id"] for r in body["requests"]]


def test_a_queue_pages_through_every_request_newest_first(net, monkeypatch):
    made = [net.create(who="home", record_id=None, citation={"title": f"Naskah {n}"}).get_json()["id"]
            for n in range(7)]
    body = net.call("home", "GET", "/requests?side=borrowing&per_page=3").get_json()
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (7, 3, 1, 3)
    assert _ids(body) == made[::-1][:3]
    last = net.call("home", "GET", "/requests?side=borrowing&per_page=3&page=3").get_json()
    assert _ids(last) == [made[0]]
    beyond = net.call("home", "GET", "/requests?side=borrowing&per_page=3&page=9").get_json()
    assert beyond["requests"] == [] and beyond["total"] == 7
    for bad in ("page=0", "page=x", "per_page=201", "per_page=0"):
        r = net.call("home", "GET", f"/requests?{bad}")
        assert r.status_code == 400 and r.get_json()["error"]["field"] == bad.split("=")[0], bad
    # the page: how many, and a pager
    _login(net, "home")
    page = net.client.get("/requests/?side=borrowing", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "7 requests" in page and 'rel="next"' not in page  # 50 to a page
    from ill import requests_service

    monkeypatch.setattr(requests_service, "PER_PAGE", 3)
    page = net.client.get("/requests/?side=borrowing&page=2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 2 of 3" in page and 'rel="prev"' in page and 'page=3' in page and f">{made[3]}<" in page


def test_find_a_request_by_number_title_or_patron_as_far_as_one_may_see(net):
    book = net.create().get_json()["id"]  # Siti, the net's record, lent by A
    other = net.create(who="patron2", record_id=None, citation={"title": "Naskah Melayu 100% lengkap"}).get_json()["id"]
    title = net.get("home", book).get_json()["title"]

    def found(who, q, side="borrowing"):
        return _ids(net.call(who, "GET", f"/requests?side={side}&q={q}").get_json())

    assert found("home", f"%23{book}") == [book] and found("home", str(other)) == [other]
    # the copy sent, scanned at the desk, finds its loan on both sides; a patron cannot search by it
    db.session.get(LoanRequest, book).item_barcode = "B0001234"
    db.session.get(LoanRequest, other).item_barcode = "39000123"
    db.session.commit()
    assert found("a", "B0001234", side="lending") == [book] and found("home", "39000123") == [other]
    assert found("home", "%2339000123") == []  # with # it is a request number only
    assert found("patron", "B0001234") == []
    assert found("home", title.split()[0].lower()) == [book]
    assert found("home", "naskah") == [other] and found("home", "100%25") == [other]
    assert found("home", "%25") == [other]  # a literal percent sign, not "anything"
    assert found("home", "siti") == [book] and found("home", "BUDI") == [other]
    # the lender finds the request by its title, never by who asked
    assert found("a", title.split()[0].lower(), side="lending") == [book]
    assert found("a", "siti", side="lending") == []
    assert found("coord", "siti") == [book]
    # a patron searches their own requests only
    assert found("patron", "naskah") == [] and found("patron2", "naskah") == [other]
    r = net.call("home", "GET", "/requests?q=" + "x" * 201)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "q"
    _login(net, "home")
    page = net.client.get("/requests/?side=borrowing&q=budi", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 request" in page and f">{other}<" in page and f">{book}<" not in page and "show all" in page
