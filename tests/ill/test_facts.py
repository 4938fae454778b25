"""Facts per library: fill rate, turnaround, balance, patron satisfaction."""
from datetime import date, timedelta

import pytest

from ill import clock
from ill.facts import EntryRow, RequestRow, summarise


def test_summarise_counts_borrowing_lending_balance_and_satisfaction():
    d = date(2026, 3, 2)
    partners = {1: ("HOME", "Home"), 2: ("A", "Lender A")}
    requests = [
        RequestRow(1, d, d + timedelta(days=4), "completed", rating=5),
        RequestRow(1, d, d + timedelta(days=2), "received", rating=None),
        RequestRow(1, d, None, "unfilled", rating=2),
        RequestRow(1, d, None, "requested"),
        RequestRow(1, d, None, "cancelled"),
        RequestRow(99, d, d, "completed"),  # not a partner asked about: ignored
    ]
    entries = [
        EntryRow(2, d, "supplied", d + timedelta(days=1)),
        EntryRow(2, d, "supplied", d + timedelta(days=3)),
        EntryRow(2, d, "unfilled", d),
        EntryRow(2, d, "no_answer", None),
        EntryRow(2, d, "asked", None),
        EntryRow(2, d, "not_asked", None),
    ]
    facts = summarise(partners, requests, entries)
    home, a = facts[1], facts[2]
    assert (home.requests_made, home.requests_filled, home.requests_unfilled, home.requests_open) == (5, 2, 1, 1)
    assert home.fill_rate == pytest.approx(2 / 3)
    assert home.median_turnaround_days == 3
    assert home.satisfaction == 3.5 and len(home.ratings) == 2
    assert (a.asked, a.supplied, a.not_supplied) == (5, 2, 2)
    assert a.lender_fill_rate == 0.5
    assert a.mean_response_days == 2.0
    assert a.balance == 2 and home.balance == -2
    assert facts[2].to_dict()["lending"]["fill_rate"] == 0.5


def test_no_activity_gives_no_rates():
    facts = summarise({1: ("X", "X")}, [], [])
    assert facts[1].fill_rate is None and facts[1].satisfaction is None and facts[1].balance == 0


def _full_loan(net):
    rid = net.create().get_json()["id"]
    assert net.get("home", rid).get_json()["current_lender"] == "A"
    assert net.act("a", rid, "will_supply").status_code == 200
    due = (clock.today() + timedelta(days=21)).isoformat()
    assert net.act("a", rid, "loaned", due_date=due).status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    return rid


def test_facts_follow_the_requests_through_the_api(net):
    filled = _full_loan(net)
    other = net.create(who="patron2").get_json()["id"]
    assert net.act("a", other, "unfilled", reason="on_loan").status_code == 200
    assert net.act("b", other, "unfilled", reason="damaged").status_code == 200
    assert net.get("home", other).get_json()["status"] == "unfilled"

    body = net.call("coord", "GET", "/facts").get_json()
    rows = {r["library"]: r for r in body["libraries"]}
    assert rows["HOME"]["borrowing"] == {"requests": 2, "filled": 1, "unfilled": 1, "open": 0, "lost": 0,
                                         "fill_rate": 0.5, "median_turnaround_days": 0}
    assert rows["A"]["lending"]["asked"] == 2 and rows["A"]["lending"]["supplied"] == 1
    assert rows["A"]["lending"]["fill_rate"] == 0.5
    assert rows["B"]["lending"]["not_supplied"] == 1
    assert rows["A"]["balance"] == 1 and rows["HOME"]["balance"] == -1
    assert filled


def test_books_lost_count_for_the_borrower_and_for_the_lender_each_seeing_its_own(net):
    lost = _full_loan(net)
    shipped = net.create(who="patron2").get_json()["id"]
    assert net.act("a", shipped, "loaned").status_code == 200
    assert net.act("home", lost, "report_lost", reason="left on the bus").status_code == 200
    rows = {r["library"]: r for r in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert rows["HOME"]["borrowing"]["lost"] == 1 and rows["HOME"]["borrowing"]["filled"] == 2
    assert rows["A"]["lending"]["lost"] == 1 and rows["A"]["borrowing"]["lost"] == 0
    # settled, it still counts; A's librarian, who sees A alone, sees the book A lent and lost
    assert net.act("a", lost, "settle_lost", charge="a replacement copy").status_code == 200
    (mine,) = net.call("a", "GET", "/facts").get_json()["libraries"]
    assert mine["library"] == "A" and mine["lending"]["lost"] == 1 and mine["borrowing"]["requests"] == 0
    # the patron may say how it went
    assert net.call("patron", "POST", f"/requests/{lost}/feedback", {"rating": 2}).status_code == 201


def test_summarise_counts_a_lost_book_once_for_each_side():
    partners = {1: ("HOME", "Home"), 2: ("A", "A")}
    day = date(2026, 11, 2)
    requests = [RequestRow(1, day, day, "completed_without_return", lender_id=2),
                RequestRow(1, day, day, "lost", lender_id=3),  # a lender not shown
                RequestRow(1, day, day, "completed", lender_id=2)]
    facts = summarise(partners, requests, [])
    assert facts[1].requests_lost == 2 and facts[2].lent_lost == 1 and facts[1].requests_filled == 3
    assert facts[2].requests_made == 0


def test_patrons_rate_their_own_requests_once_supplied(net):
    rid = net.create().get_json()["id"]
    r = net.call("patron", "POST", f"/requests/{rid}/feedback", {"rating": 5})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_yet"
    for who, action in [("a", "will_supply"), ("a", "loaned"), ("home", "received"), ("home", "checked_out"),
                        ("home", "returned")]:
        assert net.act(who, rid, action).status_code == 200, action
    assert net.call("patron2", "POST", f"/requests/{rid}/feedback", {"rating": 1}).status_code == 404
    assert net.call("home", "POST", f"/requests/{rid}/feedback", {"rating": 1}).status_code == 404
    r = net.call("patron", "POST", f"/requests/{rid}/feedback", {"rating": 9})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "rating"
    assert net.call("patron", "POST", f"/requests/{rid}/feedback", {"rating": 3}).status_code == 201
    r = net.call("patron", "POST", f"/requests/{rid}/feedback", {"rating": 4, "comment": "cepat"})
    assert r.get_json() == {"request": rid, "rating": 4, "comment": "cepat"}
    rows = {r["library"]: r for r in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert rows["HOME"]["satisfaction"] == {"average": 4.0, "ratings": 1}


def test_librarians_see_their_own_library_only_and_patrons_none(net):
    _full_loan(net)
    rows = net.call("a", "GET", "/facts").get_json()["libraries"]
    assert [r["library"] for r in rows] == ["A"]
    assert net.call("patron", "GET", "/facts").status_code == 403
    assert net.call(None, "GET", "/facts").status_code == 401
    assert net.call("coord", "GET", "/facts?since=2026-02-30").status_code == 400


def test_period_bounds_the_facts(net):
    _full_loan(net)
    past = (clock.today() - timedelta(days=400)).isoformat()
    old = (clock.today() - timedelta(days=380)).isoformat()
    body = net.call("coord", "GET", f"/facts?since={past}&until={old}").get_json()
    rows = {r["library"]: r for r in body["libraries"]}
    assert rows["HOME"]["borrowing"]["requests"] == 0


def test_facts_page_and_csv(net, client):
    from tests.factories import login

    _full_loan(net)
    login(client, net.users["coord"].email)
    html = client.get("/facts/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Facts behind the cooperation" in html and "HOME" in html
    r = client.get("/facts/facts.csv")
    assert r.mimetype == "text/csv"
    # as every spreadsheet: UTF-8 with a byte order mark, for spreadsheet programs
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("library,requests,filled")
    home = next(line for line in lines if line.startswith("HOME,"))
    assert home.split(",")[1:3] == ["1", "1"]


def test_a_fill_is_dated_on_the_calendar_that_dates_requests(monkeypatch):
    """A request is dated by ``clock.today()``, the network's calendar; the
    day it was filled is read on the same calendar (``clock.day_of``, as the
    facts read it), whatever the server's
    time zone, or a request made and filled one evening would take a day."""
    import time
    from datetime import UTC, datetime

    evening = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # 01:00 on the 30th in Jakarta
    monkeypatch.setattr(clock, "utcnow", lambda: evening)
    try:
        for zone in ("UTC", "Asia/Jakarta", "America/Lima"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert clock.today() == date(2026, 11, 30)
            assert clock.day_of(evening) == date(2026, 11, 30)
            assert clock.day_of(evening.replace(tzinfo=None)) == date(2026, 11, 30)  # SQLite's naive UTC
    finally:
        monkeypatch.undo()
        time.tzset()
