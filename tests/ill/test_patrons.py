"""A borrowing library's patrons: standing, suspensions, who sees whom."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ill import clock
from ill.notify import Notice
from tests.factories import login


def _patron_id(net, who="patron"):
    return net.users[who].id


def test_a_suspended_patron_cannot_ask_until_the_day_after_and_is_told(net):
    open_one = net.create().get_json()["id"]
    until = clock.today() + timedelta(days=30)
    pid = _patron_id(net)
    r = net.call("home", "PUT", f"/patrons/{pid}/suspension",
                 {"until": until.isoformat(), "reason": "a lost book not yet replaced"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["suspended_until"] == until.isoformat() and r.get_json()["open"] == 1
    net.session.expire_all()
    (told,) = net.session.scalars(select(Notice).where(Notice.user_id == pid, Notice.kind == "ill_suspended"))
    assert "a lost book not yet replaced" in told.body
    # new requests are refused, saying until when and why; nothing is made
    r = net.create(citation={"title": "Naskah Melayu"}, record_id=None)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "suspended"
    assert r.get_json()["error"]["details"] == {"until": until.isoformat(), "reason": "a lost book not yet replaced"}
    assert "a lost book not yet replaced" in r.get_json()["error"]["message"]
    assert len(net.call("patron", "GET", "/requests").get_json()["requests"]) == 1
    # what was asked before goes on; another patron is not touched
    assert net.act("a", open_one, "will_supply").status_code == 200
    assert net.create(who="patron2", citation={"title": "Naskah Melayu"}, record_id=None).status_code == 201
    # lifted: the patron is told and may ask again
    r = net.call("home", "DELETE", f"/patrons/{pid}/suspension")
    assert r.status_code == 200 and r.get_json()["suspended_until"] is None
    net.session.expire_all()
    (told,) = net.session.scalars(select(Notice).where(Notice.user_id == pid, Notice.kind == "ill_suspension_lifted"))
    assert "you may make requests again" in told.body
    net.call("home", "DELETE", f"/patrons/{pid}/suspension")  # nothing in force: nobody is told again
    net.session.expire_all()
    assert len(net.session.scalars(select(Notice).where(Notice.user_id == pid,
                                                        Notice.kind == "ill_suspension_lifted")).all()) == 1
    assert net.create(citation={"title": "Naskah Melayu"}, record_id=None).status_code == 201


def test_a_suspension_ends_after_its_last_day(net):
    from ill import patrons

    today = clock.today()
    row = patrons.suspend(net.session, net.users["home"], _patron_id(net), today.isoformat(), "late returns")
    net.make.commit()
    assert patrons.suspension_of(net.session, _patron_id(net), today) == row
    assert patrons.suspension_of(net.session, _patron_id(net), today + timedelta(days=1)) is None
    patrons.check_may_request(net.session, net.users["patron"], today + timedelta(days=1))  # no error


def test_a_suspension_needs_a_day_to_come_and_a_reason_and_a_bad_one_keeps_nothing(net):
    pid = _patron_id(net)
    for body, field in [({"reason": "x"}, "until"), ({"until": "soon", "reason": "x"}, "until"),
                        ({"until": (clock.today() - timedelta(days=1)).isoformat(), "reason": "x"}, "until"),
                        ({"until": (clock.today() + timedelta(days=3)).isoformat()}, "reason"),
                        ({"until": (clock.today() + timedelta(days=3)).isoformat(), "reason": "x" * 256}, "reason")]:
        r = net.call("home", "PUT", f"/patrons/{pid}/suspension", body)
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, body
    assert net.call("home", "GET", f"/patrons/{pid}").get_json()["suspended_until"] is None


def test_only_the_patrons_own_library_sees_and_suspends_them(net):
    pid = _patron_id(net)
    body = {"until": (clock.today() + timedelta(days=3)).isoformat(), "reason": "x"}
    # a lender's librarian, another library's, a coordinator, a patron: not theirs
    for who in ("a", "x"):
        assert net.call(who, "PUT", f"/patrons/{pid}/suspension", body).status_code == 404
        assert net.call(who, "GET", f"/patrons/{pid}").status_code == 404
        assert pid not in {p["id"] for p in net.call(who, "GET", "/patrons").get_json()["patrons"]}
    for who in ("coord", "patron"):
        assert net.call(who, "GET", "/patrons").status_code == 403
        assert net.call(who, "PUT", f"/patrons/{pid}/suspension", body).status_code == 403
    mine = net.call("home", "GET", "/patrons").get_json()["patrons"]
    assert {p["id"] for p in mine} == {_patron_id(net), _patron_id(net, "patron2")}
    xs = net.call("x", "GET", "/patrons").get_json()["patrons"]
    assert [p["id"] for p in xs] == [_patron_id(net, "xpatron")]
    # a librarian is not a patron to suspend
    assert net.call("home", "PUT", f"/patrons/{net.users['a'].id}/suspension", body).status_code == 404


def test_standing_counts_open_overdue_and_lost(net, runner):
    lost = net.create().get_json()["id"]
    for actor, action in [("a", "loaned"), ("home", "received"), ("home", "checked_out")]:
        assert net.act(actor, lost, action).status_code == 200
    assert net.act("home", lost, "report_lost", reason="gone").status_code == 200
    net.create(citation={"title": "Naskah Melayu"}, record_id=None)
    row = net.call("home", "GET", f"/patrons/{_patron_id(net)}").get_json()
    assert (row["requests"], row["open"], row["overdue"], row["lost"]) == (2, 2, 0, 1)
    first = net.call("home", "GET", "/patrons").get_json()["patrons"][0]
    assert first["id"] == _patron_id(net)  # most open first


def test_the_patron_pages(net):
    pid = _patron_id(net)
    net.create()
    login(net.client, net.users["home"].email)
    page = net.client.get("/patrons/").get_data(as_text=True)
    assert "Siti" in page and "Budi" in page and f'href="/patrons/{pid}"' in page
    until = (clock.today() + timedelta(days=10)).isoformat()
    r = net.client.post(f"/patrons/{pid}", data={"action": "suspend", "until": until, "reason": ""})
    assert r.status_code == 400 and "Say why" in r.get_data(as_text=True)
    r = net.client.post(f"/patrons/{pid}", data={"action": "suspend", "until": until, "reason": "3 loans overdue"},
                        follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Requests suspended." in page and "3 loans overdue" in page and 'id="lift"' in page
    queue = net.client.get("/requests/?side=borrowing").get_data(as_text=True)
    assert 'href="/patrons/"' in queue
    r = net.client.post(f"/patrons/{pid}", data={"action": "lift"}, follow_redirects=True)
    assert "Suspension lifted." in r.get_data(as_text=True) and 'id="lift"' not in r.get_data(as_text=True)
    net.client.post("/logout")
    login(net.client, net.users["a"].email)
    assert net.client.get(f"/patrons/{pid}").status_code == 404
    net.client.post("/logout")
    # the patron sees it on the request form
    net.call("home", "PUT", f"/patrons/{pid}/suspension", {"until": until, "reason": "3 loans overdue"})
    login(net.client, net.users["patron"].email)
    page = net.client.get(f"/requests/new?record_id={net.cluster.id}").get_data(as_text=True)
    assert 'id="suspension"' in page and "3 loans overdue" in page


def test_the_patrons_list_pages_and_finds_most_open_first(net):
    for name in ("Ani", "Cici", "Dedi"):
        net.make.user("patron", net.libs["HOME"], name=name, locale="en")
    net.make.commit()
    assert net.create().status_code == 201  # Siti: one open request
    body = net.call("home", "GET", "/patrons?per_page=2").get_json()
    assert (body["total"], body["pages"], body["per_page"]) == (5, 3, 2)
    assert [p["name"] for p in body["patrons"]] == ["Siti", "Ani"]  # the most open first, then by name
    rest = [p["name"] for n in (2, 3) for p in net.call("home", "GET", f"/patrons?per_page=2&page={n}")
            .get_json()["patrons"]]
    assert rest == ["Budi", "Cici", "Dedi"]
    found = net.call("home", "GET", "/patrons?q=BUD").get_json()
    assert [p["name"] for p in found["patrons"]] == ["Budi"] and found["total"] == 1
    assert net.call("home", "GET", "/patrons?q=%25").get_json()["total"] == 0  # a percent sign, not "anyone"
    assert net.call("x", "GET", "/patrons?q=siti").get_json()["total"] == 0  # another library's patrons: none
    r = net.call("home", "GET", "/patrons?page=0")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "page"
    login(net.client, net.users["home"].email)
    page = net.client.get("/patrons/?q=ani", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 patron" in page and ">Ani<" in page and ">Siti<" not in page and "show all" in page


def test_a_library_may_take_no_new_request_from_a_patron_who_keeps_a_book(net):
    from datetime import timedelta as days

    from ill.extensions import db
    from ill.models import LoanRequest

    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "loaned").status_code == 200
    db.session.get(LoanRequest, rid).due_date = clock.today() - days(days=2)
    db.session.commit()
    # by default a late book does not stop the patron
    assert net.create(record_id=None, citation={"title": "Naskah Melayu"}).status_code == 201
    r = net.call("home", "PATCH", "/partners/HOME", {"block_overdue_patrons": True})
    assert r.status_code == 200 and r.get_json()["block_overdue_patrons"] is True
    assert net.call("a", "PATCH", "/partners/HOME", {"block_overdue_patrons": False}).status_code == 403
    r = net.create(record_id=None, citation={"title": "Hikayat Aceh"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "overdue"
    assert r.get_json()["error"]["details"] == {"request_id": rid} and f"#{rid}" in r.get_json()["error"]["message"]
    assert net.create(who="patron2").status_code == 201  # another patron of the library asks as before
    login(net.client, net.users["patron"].email)
    page = net.client.get("/requests/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="kept-back"' in page
    # shipped back: the patron may ask again; a lost book, not yet settled, stops them too
    for action in ("received", "returned", "shipped_return"):
        assert net.act("home", rid, action).status_code == 200
    assert net.create(record_id=None, citation={"title": "Hikayat Aceh"}).status_code == 201
    tajus = net.make.cluster_with_holdings({net.libs["A"]: ["available"]}, title="Tajus Salatin")
    net.make.commit()
    other = net.create(record_id=tajus.id).get_json()["id"]
    assert net.act("a", other, "loaned").status_code == 200
    assert net.act("home", other, "report_lost", reason="hilang").status_code == 200
    r = net.create(record_id=None, citation={"title": "Bustanus Salatin"})
    assert r.status_code == 409 and r.get_json()["error"]["details"] == {"request_id": other}
