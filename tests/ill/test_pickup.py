"""A book received waits for its patron on the borrowing library's hold shelf
for the library's pickup_days (else LOANS_PICKUP_DAYS): the patron is told
until when, reminded the day before the last, and once the time is up the patron
hears it goes back and the library that it was not collected."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ill import clock, pickup
from ill.notify import Notice
from tests.ill.test_loan_pages import _login


def _received(net, who="patron") -> int:
    rid = net.create(who=who).get_json()["id"]
    assert net.act("a", rid, "loaned").status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    return rid


def _told(net, kind: str) -> list[Notice]:
    net.session.expire_all()
    return list(net.session.scalars(select(Notice).where(Notice.kind == kind).order_by(Notice.id)))


def test_a_book_received_is_kept_for_the_library_s_days_and_the_patron_is_told_until_when(net):
    today = clock.today()
    rid = _received(net)
    assert net.get("patron", rid).get_json()["pickup_by"] == (today + timedelta(days=6)).isoformat()  # 7 days
    (ready,) = _told(net, "ready_for_pickup")
    assert "It is kept for you until" in ready.body
    # the library keeps books three days: a librarian sets it for their own library
    r = net.call("home", "PATCH", "/partners/HOME", {"pickup_days": 3})
    assert r.status_code == 200 and r.get_json()["pickup_days"] == 3
    assert net.get("patron", rid).get_json()["pickup_by"] == (today + timedelta(days=2)).isoformat()
    for bad in (0, 61, "soon", 2.5, True):
        r = net.call("home", "PATCH", "/partners/HOME", {"pickup_days": bad})
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "pickup_days", bad
    assert net.call("a", "PATCH", "/partners/HOME", {"pickup_days": 5}).status_code == 403
    assert net.call("home", "GET", "/partners/HOME").get_json()["pickup_days"] == 3  # as it was
    # the request page says it; once lent to the patron it is no longer waiting
    _login(net, "patron")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="pickup-by"' in page
    mine = net.client.get("/requests/mine").get_data(as_text=True)
    assert "pick up by" in mine
    assert net.act("home", rid, "checked_out").status_code == 200
    assert net.get("patron", rid).get_json()["pickup_by"] is None


def test_the_tick_reminds_the_patron_then_tells_both_once_the_time_is_up(net):
    net.libs["HOME"].pickup_days = 3
    net.make.commit()
    today = clock.today()
    waiting = _received(net)
    collected = _received(net, who="patron2")
    assert net.act("home", collected, "checked_out").status_code == 200

    assert pickup.remind_uncollected(net.session, today) == []  # the day it came: told it is ready
    lines = pickup.remind_uncollected(net.session, today + timedelta(days=1))
    net.session.commit()
    assert lines == [f"request {waiting}: pick-up reminder to {net.users['patron'].email}"]
    (reminder,) = _told(net, "pickup_reminder")
    assert reminder.user_id == net.users["patron"].id and "still waiting for you" in reminder.body
    assert pickup.remind_uncollected(net.session, today + timedelta(days=2)) == []  # once
    assert _told(net, "not_collected") == [] and _told(net, "pickup_expired") == []

    lines = pickup.remind_uncollected(net.session, today + timedelta(days=3))
    net.session.commit()
    assert lines == [f"request {waiting}: not collected by {(today + timedelta(days=2)).isoformat()}, "
                     "library and patron told"]
    (library,) = _told(net, "not_collected")
    assert library.user_id == net.users["home"].id and "Siti" in library.body and "Perpustakaan A" in library.body
    (patron,) = _told(net, "pickup_expired")
    assert patron.user_id == net.users["patron"].id and "goes back to Perpustakaan A" in patron.body
    assert pickup.remind_uncollected(net.session, today + timedelta(days=4)) == []  # said once
    # the library sends it back: nothing more to say
    assert net.act("home", waiting, "returned").status_code == 200
    assert net.get("home", waiting).get_json()["pickup_by"] is None


def test_the_daily_tick_runs_the_step(net, runner):
    _received(net)
    r = runner.invoke(args=["tick", "--as-of", (clock.today() + timedelta(days=7)).isoformat()])
    assert r.exit_code == 0, r.output
    assert "not collected by" in r.output


def test_the_lender_s_condition_goes_with_the_book_to_the_patron(net):
    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "conditional", condition="Baca di tempat saja (library use only)").status_code == 200
    assert net.act("home", rid, "accept_condition").status_code == 200
    assert net.act("a", rid, "loaned").status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    (ready,) = _told(net, "ready_for_pickup")
    assert "condition: Baca di tempat saja (library use only)." in ready.body
    _login(net, "home")
    band = net.client.get(f"/requests/{rid}/band").get_data(as_text=True)
    assert '<dd id="band-condition"><strong>Baca di tempat saja (library use only)</strong></dd>' in band


def test_the_hold_shelf_lists_what_waits_for_patrons_and_what_to_send_back(net):
    today = clock.today()
    net.libs["HOME"].pickup_days = 3
    net.make.commit()
    first = _received(net)
    second = _received(net, who="patron2")
    lent = _received(net, who="home")  # a librarian's own request, already lent on
    assert net.act("home", lent, "checked_out").status_code == 200
    body = net.call("home", "GET", "/hold-shelf").get_json()
    assert [r["id"] for r in body["requests"]] == [first, second] and body["library"] == "HOME"
    row = body["requests"][0]
    assert row["patron"]["name"] == "Siti" and row["lender"] == "A" and not row["expired"]
    assert row["received_on"] == today.isoformat() and row["kept_until"] == (today + timedelta(days=2)).isoformat()
    # on the fourth day both are past their last day: to send back
    later = pickup.hold_shelf(net.session, net.libs["HOME"].id, today + timedelta(days=3))
    assert [(w.request.id, w.expired) for w in later] == [(first, True), (second, True)]
    # another library has its own shelf; a patron none
    assert net.call("a", "GET", "/hold-shelf").get_json()["requests"] == []
    assert net.call("patron", "GET", "/hold-shelf").status_code == 403
    _login(net, "home")
    page = net.client.get("/requests/hold-shelf", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'id="waiting-{first}"' in page and f'id="waiting-{lent}"' not in page and "Siti" in page
    assert 'id="hold-shelf-link"' in net.client.get("/requests/?side=borrowing").get_data(as_text=True)


def test_books_not_collected_are_sent_back_from_the_hold_shelf_in_one_go(net):
    first = _received(net)
    second = _received(net, who="patron2")
    versions = {r: net.get("home", r).get_json()["version"] for r in (first, second)}
    assert net.act("home", second, "checked_out").status_code == 200  # meanwhile its patron came
    _login(net, "home")
    r = net.client.post("/requests/hold-shelf", data={
        "back": [str(first), str(second)], f"version-{first}": versions[first],
        f"version-{second}": versions[second]}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert f"Returned and shipped back to their lenders: #{first}." in page
    assert f"Request #{second} was not sent back" in page
    sent = net.get("a", first).get_json()
    assert sent["status"] == "shipped_return" and [e["action"] for e in sent["events"][-2:]] == [
        "returned", "shipped_return"]
    assert "Not collected by the patron" in sent["events"][-1]["note"]
    assert net.get("home", second).get_json()["status"] == "checked_out"  # as it was
    assert f'id="waiting-{first}"' not in net.client.get("/requests/hold-shelf").get_data(as_text=True)
    r = net.client.post("/requests/hold-shelf", data={}, follow_redirects=True)
    assert "Tick the books to send back" in r.get_data(as_text=True)
    # another library's librarian cannot send back HOME's books
    third = _received(net, who="home")
    version = net.get("home", third).get_json()["version"]
    _login(net, "a")
    r = net.client.post("/requests/hold-shelf", data={"back": [str(third)], f"version-{third}": version},
                        follow_redirects=True)
    assert f"Request #{third} was not sent back" in r.get_data(as_text=True)
    assert net.get("home", third).get_json()["status"] == "received"
