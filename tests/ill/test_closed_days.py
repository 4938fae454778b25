"""The days a library is closed: kept by coordinators (the whole network) and
each library's librarians (their own), and read by the deadlines: a lender's
days to answer skip them, a due date and the hold shelf's last day move off
the borrowing library's closed days to its next open day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from agreements.calendar import Calendar, closures_on
from agreements.models import ClosedDay, PartnerChange
from ill import clock
from tests.ill.test_loan_pages import _login


def _close(net, who, day, **body):
    return net.call(who, "POST", "/calendar", {"day": day.isoformat(), **body})


def _days(net, library=None):
    net.session.expire_all()
    rows = net.session.scalars(select(ClosedDay).order_by(ClosedDay.day, ClosedDay.id)).all()
    return [(c.day, c.partner.code if c.partner else None, c.reason) for c in rows
            if library is None or (c.partner.code if c.partner else None) == library]


def test_who_keeps_which_closed_days_and_a_refused_change_changes_nothing(net):
    day = clock.today() + timedelta(days=10)
    r = _close(net, "home", day, library="HOME", reason="Libur semester")
    assert r.status_code == 201, r.get_json()
    (added,) = r.get_json()["added"]
    assert added["day"] == day.isoformat() and added["library"] == "HOME" and added["reason"] == "Libur semester"
    before = _days(net)
    # a librarian keeps their own library's days, not another's nor the network's; a patron none
    assert _close(net, "home", day, library="A").status_code == 403
    assert _close(net, "home", day).status_code == 403
    assert _close(net, "patron", day, library="HOME").status_code == 403
    assert net.call(None, "POST", "/calendar", {"day": day.isoformat()}).status_code == 401
    # bad input is named
    for body, field in (({"day": "25-12-2026"}, "day"), ({"day": day.isoformat(), "until": "soon"}, "until"),
                        ({"day": day.isoformat(), "until": (day - timedelta(days=1)).isoformat()}, "until"),
                        ({"day": day.isoformat(), "until": (day + timedelta(days=366)).isoformat()}, "until"),
                        ({"day": day.isoformat(), "reason": "x" * 201}, "reason")):
        r = net.call("coord", "POST", "/calendar", body)
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, body
    assert net.call("coord", "POST", "/calendar", {"day": day.isoformat(), "library": "NOPE"}).status_code == 404
    assert _days(net) == before

    # a coordinator closes the network for three days; again, and nothing is added twice
    r = _close(net, "coord", day, until=(day + timedelta(days=2)).isoformat(), reason="Cuti bersama")
    assert r.status_code == 201 and len(r.get_json()["added"]) == 3
    r = _close(net, "coord", day, until=(day + timedelta(days=2)).isoformat(), reason="Cuti bersama")
    assert r.get_json()["added"] == [] and len(r.get_json()["already_closed"]) == 3
    # HOME's librarian sees the network's and their own days, by day, the network's first
    listed = net.call("home", "GET", "/calendar?library=HOME").get_json()
    assert [(d["day"], d["library"]) for d in listed["days"]] == [
        (day.isoformat(), None), (day.isoformat(), "HOME"),
        ((day + timedelta(days=1)).isoformat(), None), ((day + timedelta(days=2)).isoformat(), None)]
    assert listed["closed_weekdays"] == []
    # the network's alone, and a window
    window = net.call("a", "GET", f"/calendar?from={(day + timedelta(days=1)).isoformat()}"
                                  f"&to={(day + timedelta(days=1)).isoformat()}").get_json()
    assert [d["day"] for d in window["days"]] == [(day + timedelta(days=1)).isoformat()]
    assert net.call("patron", "GET", "/calendar").status_code == 403  # the calendar is for staff

    # opening a day again: only who may keep it
    home_day = next(d for d in listed["days"] if d["library"] == "HOME")
    network_day = next(d for d in listed["days"] if d["library"] is None)
    assert net.call("a", "DELETE", f"/calendar/{home_day['id']}").status_code == 403
    assert net.call("home", "DELETE", f"/calendar/{network_day['id']}").status_code == 403
    assert net.call("home", "DELETE", f"/calendar/{home_day['id']}").status_code == 204
    assert net.call("home", "DELETE", f"/calendar/{home_day['id']}").status_code == 404
    assert _days(net, "HOME") == []


def test_a_library_closed_every_week_on_some_days(net):
    r = net.call("home", "PATCH", "/partners/HOME", {"closed_weekdays": ["sunday", "Saturday"]})
    assert r.status_code == 200 and r.get_json()["closed_weekdays"] == ["saturday", "sunday"]
    assert net.call("home", "PATCH", "/partners/HOME", {"closed_weekdays": [7]}).get_json()["closed_weekdays"] == [
        "sunday"]
    assert net.call("home", "PATCH", "/partners/HOME", {"closed_weekdays": "5, 6"}).get_json()[
        "closed_weekdays"] == ["friday", "saturday"]
    for bad in (["funday"], [0], [8], list(range(1, 8)), 6, [True]):
        r = net.call("home", "PATCH", "/partners/HOME", {"closed_weekdays": bad})
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "closed_weekdays", bad
    assert net.call("a", "PATCH", "/partners/HOME", {"closed_weekdays": []}).status_code == 403
    assert net.call("home", "GET", "/partners/HOME").get_json()["closed_weekdays"] == ["friday", "saturday"]
    net.session.expire_all()
    changes = [c.changes["closed_weekdays"] for c in net.session.scalars(
        select(PartnerChange).where(PartnerChange.partner_id == net.libs["HOME"].id).order_by(PartnerChange.id))]
    assert changes[-1] == [["sunday"], ["friday", "saturday"]]  # the history names the days


def test_a_lender_s_days_to_answer_skip_the_days_it_and_the_network_are_closed(net):
    today = clock.today()
    plain = Calendar()
    first, second, third, fourth = (plain.working_days_after(today, k) for k in (1, 2, 3, 4))
    # each lender closes its next two working days, the network the one after;
    # another library's closing changes nothing for them
    for lender in ("A", "B"):
        assert _close(net, lender.lower(), first, until=second.isoformat(), library=lender).status_code == 201
    assert _close(net, "coord", third).status_code == 201
    assert _close(net, "x", fourth, library="X").status_code == 201
    asked = net.get("patron", net.create().get_json()["id"]).get_json()
    n = {"A": 3, "B": 2}[asked["current_lender"]]
    assert asked["answer_due"] == plain.working_days_after(today, n + 3).isoformat()
    assert asked["answer_due"] == Calendar(frozenset({first, second, third})).working_days_after(today, n).isoformat()
    # with nothing closed: n working days
    for row in net.call("coord", "GET", "/calendar?library=A").get_json()["days"]:
        assert net.call("coord", "DELETE", f"/calendar/{row['id']}").status_code == 204
    for row in net.call("coord", "GET", "/calendar?library=B").get_json()["days"]:
        if row["library"] == "B":
            assert net.call("coord", "DELETE", f"/calendar/{row['id']}").status_code == 204
    later = net.get("patron2", net.create(who="patron2").get_json()["id"]).get_json()
    n = {"A": 3, "B": 2}[later["current_lender"]]
    assert later["answer_due"] == plain.working_days_after(today, n).isoformat()


def test_a_due_date_and_the_hold_shelf_s_last_day_move_off_the_borrowing_library_s_closed_days(net):
    today = clock.today()
    rid = net.create().get_json()["id"]
    lender = net.get("patron", rid).get_json()["current_lender"]
    period = {"A": 21, "B": 14}[lender]
    due = today + timedelta(days=period)
    # HOME, where the patron brings the book back, is closed that day and weekly on the day after
    assert _close(net, "home", due, library="HOME", reason="Dies natalis").status_code == 201
    assert net.call("home", "PATCH", "/partners/HOME",
                    {"closed_weekdays": [(due + timedelta(days=1)).isoweekday()]}).status_code == 200
    # the lender being closed that day does not matter: the book comes back to HOME
    assert _close(net, "coord", due + timedelta(days=3), library=lender).status_code == 201
    assert net.act(lender.lower(), rid, "loaned").status_code == 200
    assert net.get("patron", rid).get_json()["due_date"] == (due + timedelta(days=2)).isoformat()
    # a due date the lender gives is kept as given
    other = net.create(who="patron2").get_json()["id"]
    other_lender = net.get("patron2", other).get_json()["current_lender"].lower()
    assert net.act(other_lender, other, "loaned", due_date=due.isoformat()).status_code == 200
    assert net.get("patron2", other).get_json()["due_date"] == due.isoformat()

    # received: kept seven days, that day the first; the last day HOME is closed moves on
    assert net.act("home", rid, "received").status_code == 200
    assert net.get("patron", rid).get_json()["pickup_by"] == (today + timedelta(days=6)).isoformat()
    assert _close(net, "home", today + timedelta(days=6), library="HOME").status_code == 201
    assert net.get("patron", rid).get_json()["pickup_by"] == (today + timedelta(days=7)).isoformat()
    (shelf,) = [w for w in net.call("home", "GET", "/hold-shelf").get_json()["requests"] if w["id"] == rid]
    assert shelf["kept_until"] == (today + timedelta(days=7)).isoformat()

    # a renewal asked without a day: one more loan period, moved off a closed day too
    assert net.act("home", rid, "checked_out").status_code == 200
    renewal = due + timedelta(days=2) + timedelta(days=period)
    assert _close(net, "home", renewal, library="HOME").status_code == 201
    expected = renewal + timedelta(days=1)
    while expected.isoweekday() == (due + timedelta(days=1)).isoweekday():
        expected += timedelta(days=1)
    assert net.act("patron", rid, "renew").status_code == 200
    assert net.get("patron", rid).get_json()["renewal_due"] == expected.isoformat()


def test_the_calendar_page(net):
    day = clock.today() + timedelta(days=20)
    _login(net, "home")
    page = net.client.get("/calendar").get_data(as_text=True)
    assert 'id="add-closed-days"' in page and 'id="add-holidays"' not in page  # not the network's
    r = net.client.post("/calendar", data={"action": "add", "scope": "HOME", "day": day.isoformat(),
                                           "until": (day + timedelta(days=1)).isoformat(), "reason": "Stock-taking"})
    assert r.status_code == 302
    page = net.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "2 closed days added." in page and "Stock-taking" in page
    assert [d for d, _, _ in _days(net, "HOME")] == [day, day + timedelta(days=1)]
    # a bad day is named, and nothing is added
    r = net.client.post("/calendar", data={"action": "add", "scope": "HOME", "day": "tomorrow"})
    assert r.status_code == 400 and "is not a date" in r.get_data(as_text=True)
    # the network's days are not a librarian's to keep, on the page either
    r = net.client.post("/calendar", data={"action": "add", "scope": "network", "day": day.isoformat()})
    assert r.status_code == 403
    for bad in ("abc", "999999"):
        r = net.client.post("/calendar", data={"action": "remove", "id": bad})
        assert r.status_code == 400 and "gone already" in r.get_data(as_text=True)
    first = net.session.scalars(select(ClosedDay).where(ClosedDay.day == day)).one()
    r = net.client.post("/calendar", data={"action": "remove", "id": str(first.id)}, follow_redirects=True)
    assert "is open again." in r.get_data(as_text=True)
    assert [d for d, _, _ in _days(net, "HOME")] == [day + timedelta(days=1)]
    assert 'value="remove"' in net.client.get("/calendar").get_data(as_text=True)  # its own day, to open
    # a librarian sees another library's calendar but keeps nothing of it
    page = net.client.get("/calendar?library=A").get_data(as_text=True)
    assert 'id="add-closed-days"' not in page and 'value="remove"' not in page

    # the coordinator fills in a year's public holidays, in their language
    _login(net, "coord")
    r = net.client.post("/calendar", data={"action": "holidays", "year": "2027"})
    assert r.status_code == 302
    rows = _days(net)
    independence = [reason for d, lib, reason in rows if d.isoformat() == "2027-08-17"]
    assert independence == ["Independence Day"] and all(lib is None for d, lib, _ in rows
                                                                   if d.year == 2027)
    again = net.client.post("/calendar", data={"action": "holidays", "year": "2027"}, follow_redirects=True)
    assert "were closed already" in again.get_data(as_text=True) and len(_days(net)) == len(rows)
    page = net.client.get("/calendar?library=").get_data(as_text=True)
    assert "the whole network" in page and 'id="add-holidays"' in page


def test_the_partner_page_sets_the_days_of_the_week(net):
    _login(net, "home")
    r = net.client.post("/partners/HOME", data={"action": "review", "closed_weekdays": ["6", "7"]})
    assert r.status_code == 302
    net.session.expire_all()
    assert net.libs["HOME"].closed_weekdays == "67"
    page = net.client.get("/partners/HOME").get_data(as_text=True)
    assert "Saturday, Sunday" in page
    net.client.post("/language", data={"lang": "id"})
    page = net.client.get("/partners/HOME").get_data(as_text=True)
    assert "Sabtu, Minggu" in page


def test_the_public_holidays_from_the_command_line(runner, session):
    r = runner.invoke(args=["agreements", "holidays", "2027"])
    assert r.exit_code == 0, r.output
    assert "2027-08-17  Hari Kemerdekaan Republik Indonesia" in r.output
    assert "(perkiraan)" in r.output  # Islamic holidays' dates are estimates, and say so
    again = runner.invoke(args=["agreements", "holidays", "2027", "--lang", "en"])
    assert again.exit_code == 0 and again.output.startswith("0 closed days added")
    assert runner.invoke(args=["agreements", "holidays", "20270"]).exit_code == 1
    rows = session.scalars(select(ClosedDay)).all()
    assert rows and all(c.partner_id is None and c.actor == "cli" for c in rows)


def test_a_library_closed_today_is_not_asked_to_lend_until_it_opens(net):
    """Its own closed days bar it as a pause of its lending does: the rota
    passes it over, the record page and search say until when, and a
    librarian cannot choose it; the network's days and its weekly closing
    do not (everyone is closed then, and answers when open)."""
    from ill.routing import requestability

    today = clock.today()
    a = net.libs["A"].id
    assert _close(net, "coord", today).status_code == 201  # a network holiday: A is still asked
    assert net.call("a", "PATCH", "/partners/A", {"closed_weekdays": [today.isoweekday()]}).status_code == 200
    assert requestability(net.session, net.libs["HOME"].id, net.cluster.id, "loan", today)[a][0] is True
    # A closes today and the next two days for stock-taking (and a day later, apart)
    assert _close(net, "a", today, until=(today + timedelta(days=2)).isoformat(), library="A",
                  reason="Stock opname").status_code == 201
    assert _close(net, "a", today + timedelta(days=5), library="A").status_code == 201
    last = today + timedelta(days=2)
    assert closures_on(net.session, today) == {a: (last, "Stock opname")}  # the run, not the day apart
    assert closures_on(net.session, today + timedelta(days=1), [net.libs["B"].id]) == {}
    body = net.get("home", net.create().get_json()["id"]).get_json()
    assert body["current_lender"] == "B"
    reason = {r["library"]: r["reason"] for r in body["rota"]}["A"]
    assert "closed until" in reason and "Stock opname" in reason
    said = requestability(net.session, net.libs["HOME"].id, net.cluster.id, "loan", today)[a]
    assert said[0] is False and said[1].startswith("closed until")
    record = net.call("patron", "GET", f"/records/{net.cluster.id}").get_json()
    (held,) = [h for h in record["holdings"] if h["library"] == "A"]
    assert held["requestable"] is False and "Stock opname" in held["services"]["loan"]["reason"]
    # the librarian cannot send it there by hand either
    rid = net.call("patron2", "POST", "/requests", {"service": "loan", "citation": {"title": "Kitab Langka"}}
                   ).get_json()["id"]
    r = net.act("home", rid, "route", lender="A")
    assert r.status_code == 409 and "closed until" in r.get_json()["error"]["message"]
    assert net.get("home", rid).get_json()["status"] == "new"  # as it was
    # the day after the run it may be asked again; opened again now, at once
    assert requestability(net.session, net.libs["HOME"].id, net.cluster.id, "loan", last + timedelta(days=1))[a][0]
    for row in net.call("a", "GET", "/calendar?library=A").get_json()["days"]:
        if row["library"] == "A" and row["day"] == today.isoformat():
            assert net.call("a", "DELETE", f"/calendar/{row['id']}").status_code == 204
    record = net.call("patron", "GET", f"/records/{net.cluster.id}").get_json()
    (held,) = [h for h in record["holdings"] if h["library"] == "A"]
    assert held["requestable"] is True


def test_the_partner_pages_say_a_library_is_closed_until_when(net):
    today = clock.today()
    assert _close(net, "a", today, until=(today + timedelta(days=4)).isoformat(), library="A",
                  reason="Stock opname").status_code == 201
    _login(net, "home")
    listing = net.client.get("/partners/").get_data(as_text=True)
    assert "closed until" in listing and "Stock opname" in listing
    page = net.client.get("/partners/A").get_data(as_text=True)
    status = page.split('id="lending-status">')[1].split("</dd>")[0]
    assert "closed until" in status and "Stock opname" in status
    assert "closed until" not in net.client.get("/partners/B").get_data(as_text=True).split(
        'id="lending-status">')[1].split("</dd>")[0]


def test_a_request_waiting_on_a_library_that_closes_goes_on_at_once(net, runner):
    """The tick passes a request still waiting for the answer of a library
    that has closed (its own closed days) to the next lender, and the library
    is not counted as not answering."""
    today = clock.today()
    rid = net.create().get_json()["id"]
    first = net.get("home", rid).get_json()["current_lender"]
    assert f"request {rid}" not in runner.invoke(args=["tick", "--as-of", today.isoformat()]).output  # open: waits
    assert _close(net, first.lower(), today, until=(today + timedelta(days=13)).isoformat(), library=first,
                  reason="Libur semester").status_code == 201
    out = runner.invoke(args=["tick", "--as-of", today.isoformat()]).output
    assert f"lenders closed today: request {rid}: requested -> requested" in out
    body = net.get("home", rid).get_json()
    assert body["current_lender"] not in (first, None)
    outcome = {r["library"]: r["outcome"] for r in body["rota"]}
    assert outcome[first] == "closed"
    assert body["events"][-1]["action"] == "lender_closed" and body["events"][-1]["actor"] == "system"
    # not held against it: the facts count it neither asked nor not supplied
    facts = {f["library"]: f["lending"] for f in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert facts[first]["asked"] == 0 and facts[first]["not_supplied"] == 0
    assert f"request {rid}" not in runner.invoke(args=["tick", "--as-of", today.isoformat()]).output  # once


def test_a_library_writes_its_lending_policy_for_the_libraries_that_borrow(net):
    policy = "Skripsi dan tesis: salinan saja.\nPinjaman 14 hari; dikirim lewat JNE."
    r = net.call("a", "PATCH", "/partners/A", {"lending_policy": policy})
    assert r.status_code == 200 and r.get_json()["lending_policy"] == policy
    assert net.call("a", "PATCH", "/partners/A", {"lending_policy": "x" * 2001}).status_code == 400
    assert net.call("home", "PATCH", "/partners/A", {"lending_policy": "no"}).status_code == 403
    _login(net, "patron")
    form = net.client.get(f"/requests/new?record_id={net.cluster.id}").get_data(as_text=True)
    assert "Skripsi dan tesis: salinan saja. · Pinjaman 14 hari" in form  # who holds it, and how it lends
    rid = net.create().get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"]
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert ('id="lender-policy"' in page) == (lender == "A")
    assert "Skripsi dan tesis" in net.client.get("/partners/A").get_data(as_text=True)


def test_a_page_of_books_waiting_reads_the_library_s_calendar_once(net):
    """Each received loan's last day on the hold shelf reads the borrowing
    library's calendar: a page of them reads it once, not once a loan."""
    from sqlalchemy import event

    for i in range(6):
        book = net.make.cluster_with_holdings({net.libs["A"]: ["available"]}, title=f"Buku {i}")
        net.make.commit()
        rid = net.create(record_id=book.id).get_json()["id"]
        assert net.act("a", rid, "loaned").status_code == 200
        assert net.act("home", rid, "received").status_code == 200
    engine = net.session.get_bind()
    seen = []
    listener = lambda *a, **k: seen.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        body = net.call("home", "GET", "/requests?side=borrowing").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sum(1 for r in body["requests"] if r["pickup_by"]) == 6
    assert sum("closed_days" in s for s in seen) == 1


def test_a_closed_day_announced_after_a_lender_was_asked_gives_it_the_days_it_was_promised(net):
    from ill import requests_service

    today = clock.today()
    plain = Calendar()
    rid = net.create().get_json()["id"]
    asked = net.get("home", rid).get_json()
    lender = asked["current_lender"]
    n = {"A": 3, "B": 2}[lender]
    old_due = plain.working_days_after(today, n)
    assert asked["answer_due"] == old_due.isoformat()
    # cuti bersama announced late, on the lender's second working day: one day more
    second = plain.working_days_after(today, 2)
    assert _close(net, "coord", second, reason="Cuti bersama").status_code == 201
    moved = net.get("home", rid).get_json()
    assert moved["answer_due"] == plain.working_days_after(today, n + 1).isoformat()
    lender_row = next(r for r in moved["rota"] if r["library"] == lender)
    assert lender_row["answer_due"] == moved["answer_due"]
    # the day after the old deadline the tick leaves it with its lender
    assert requests_service.tick_unanswered(net.session, old_due + timedelta(days=1)) == []
    net.session.commit()
    # another library's closing moves nothing; opening the day again shortens nothing
    assert _close(net, "x", plain.working_days_after(today, 1), library="X").status_code == 201
    assert net.get("home", rid).get_json()["answer_due"] == moved["answer_due"]
    network_day = next(d for d in net.call("coord", "GET", "/calendar").get_json()["days"] if d["library"] is None)
    assert net.call("coord", "DELETE", f"/calendar/{network_day['id']}").status_code == 204
    assert net.get("home", rid).get_json()["answer_due"] == moved["answer_due"]
    # the lender now closes every week on its first two working days' weekdays: later again
    closing = frozenset({plain.working_days_after(today, 1).isoweekday(), second.isoweekday()})
    r = net.call(lender.lower(), "PATCH", f"/partners/{lender}", {"closed_weekdays": sorted(closing)})
    assert r.status_code == 200, r.get_json()
    expected = Calendar(closed_weekdays=closing).working_days_after(today, n)
    assert expected > date.fromisoformat(moved["answer_due"])
    assert net.get("home", rid).get_json()["answer_due"] == expected.isoformat()
