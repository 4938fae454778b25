"""A patron's library card number (a student's NIM): kept once per library,
and typed or scanned at the desk to find the patron, their requests and the
books waiting for them; never matched for a library that may not see who
asked."""

from __future__ import annotations

from io import BytesIO

from ill.accounts import User
from tests.ill.test_loan_pages import _login


def test_a_card_number_is_kept_once_per_library(net):
    r = net.call("home", "POST", "/users", {"email": "ani@home.ac.id", "name": "Ani", "card_number": " 0401 2012 34 "})
    assert r.status_code == 201 and r.get_json()["card_number"] == "0401201234"
    # the same card in the same library is refused, naming whose it is; another library may have it
    r = net.call("home", "POST", "/users", {"email": "ana@home.ac.id", "card_number": "0401201234"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "card_number"
    assert "ani@home.ac.id" in r.get_json()["error"]["message"]
    r = net.call("x", "POST", "/users", {"email": "ani@x.ac.id", "card_number": "0401201234"})
    assert r.status_code == 201
    # set on an account, and cleared
    siti = net.users["patron"].id
    r = net.call("home", "PATCH", f"/users/{siti}", {"card_number": "P-778"})
    assert r.status_code == 200 and r.get_json()["card_number"] == "P-778"
    r = net.call("home", "PATCH", f"/users/{siti}", {"card_number": "p-778"})
    assert r.status_code == 200  # its own
    for bad, field in (({"card_number": "0401201234"}, "card_number"), ({"card_number": "9" * 51}, "card_number"),
                       ({"locale": "fr"}, "locale"), ({"email": "x@y.id"}, "email")):
        r = net.call("home", "PATCH", f"/users/{siti}", bad)
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, bad
    assert net.call("a", "PATCH", f"/users/{siti}", {"card_number": "1"}).status_code == 404
    net.session.expire_all()
    assert net.session.get(User, siti).card_number == "p-778"
    # the patrons list and the accounts list find it
    found = net.call("home", "GET", "/patrons?q=P-778").get_json()["patrons"]
    assert [p["id"] for p in found] == [siti] and found[0]["card_number"] == "p-778"
    assert [u["id"] for u in net.call("home", "GET", "/users?q=p-778").get_json()["users"]] == [siti]


def test_the_desk_finds_a_patron_s_requests_and_waiting_books_by_their_card(net):
    siti = net.users["patron"].id
    assert net.call("home", "PATCH", f"/users/{siti}", {"card_number": "0401201234"}).status_code == 200
    rid = net.create().get_json()["id"]
    other = net.create(who="patron2").get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"].lower()
    # the borrowing library's queue finds the request by the card, a number as a NIM is
    found = net.call("home", "GET", "/requests?side=borrowing&q=0401201234").get_json()
    assert [r["id"] for r in found["requests"]] == [rid]
    # the lender may not see who asked: the card finds nothing there
    assert net.call(lender, "GET", "/requests?side=lending&q=0401201234").get_json()["requests"] == []
    # received: on the hold shelf, the card finds the patron's books only
    assert net.act(lender, rid, "loaned").status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    other_lender = net.get("home", other).get_json()["current_lender"].lower()
    assert net.act(other_lender, other, "loaned").status_code == 200
    assert net.act("home", other, "received").status_code == 200
    _login(net, "home")
    page = net.client.get("/requests/hold-shelf?q=0401201234").get_data(as_text=True)
    assert f'id="waiting-{rid}"' in page and f'id="waiting-{other}"' not in page and "0401201234" in page
    page = net.client.get("/requests/hold-shelf?q=budi").get_data(as_text=True)  # or the name
    assert f'id="waiting-{other}"' in page and f'id="waiting-{rid}"' not in page
    assert "No book is waiting for" in net.client.get("/requests/hold-shelf?q=9999").get_data(as_text=True)
    shelf = net.call("home", "GET", "/hold-shelf?q=0401201234").get_json()["requests"]
    assert [w["id"] for w in shelf] == [rid]
    # the book band names the card
    band = net.client.get(f"/requests/{rid}/band").get_data(as_text=True)
    assert "0401201234" in band


def test_the_card_on_the_patron_s_page_and_in_a_spreadsheet(net):
    _login(net, "home")
    siti = net.users["patron"].id
    r = net.client.post(f"/patrons/{siti}", data={"action": "card", "card_number": "A-17"})
    assert r.status_code == 303
    assert "A-17" in net.client.get(f"/patrons/{siti}").get_data(as_text=True)
    sheet = "NIM,Nama,Surel\n0402,Dewi,dewi@home.ac.id\nA-17,Eko,eko@home.ac.id\n"
    r = net.client.post("/people/", data={"action": "import", "file": (BytesIO(sheet.encode()), "a.csv")},
                        content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "1 account added" in page and "Line 3:" in page  # A-17 is Siti's
    net.session.expire_all()
    dewi = net.session.query(User).filter_by(email="dewi@home.ac.id").one()
    assert dewi.card_number == "0402"


def test_a_librarian_makes_a_request_for_a_patron_at_the_desk(net):
    """By card number or e-mail, for a patron of the librarian's own library:
    the request is the patron's, weighed by their limits, and they are told."""
    from sqlalchemy import select

    from ill.notify import Notice

    siti = net.users["patron"]
    assert net.call("home", "PATCH", f"/users/{siti.id}", {"card_number": "0401201234"}).status_code == 200
    r = net.create(who="home", patron="0401 2012 34")
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    body = net.get("patron", rid).get_json()  # the patron's own now
    assert body["patron"]["id"] == siti.id and body["status"] == "requested"
    created = next(e for e in net.get("home", rid).get_json()["events"] if e["action"] == "create")
    assert created["actor"] == f"{net.users['home'].name} (HOME)"  # made by the librarian
    assert created["data"]["for_patron"] is True
    net.session.expire_all()
    (told,) = net.session.scalars(select(Notice).where(Notice.kind == "request_made_for_you")).all()
    assert told.user_id == siti.id and f"#{rid}" in told.body
    # the patron's limits hold: the same record again is a duplicate of theirs
    r = net.create(who="home", patron=net.users["patron"].email)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "duplicate"
    # only a patron of one's own library; only a librarian
    before = net.call("coord", "GET", "/requests").get_json()["total"]
    for who, patron, status in (("home", "9999", 400), ("home", net.users["xpatron"].email, 400),
                                ("a", siti.email, 400), ("patron2", siti.email, 403)):
        r = net.create(who=who, patron=patron)
        assert r.status_code == status, (who, patron, r.get_json())
        if status == 400:
            assert r.get_json()["error"]["field"] == "patron"
    assert net.call("coord", "GET", "/requests").get_json()["total"] == before  # nothing made
    # on the page
    _login(net, "home")
    page = net.client.get(f"/requests/new?record_id={net.cluster.id}").get_data(as_text=True)
    assert 'id="patron"' in page
    r = net.client.post(f"/requests/new?record_id={net.cluster.id}",
                        data={"service": "loan", "patron": net.users["patron2"].email}, follow_redirects=True)
    assert "made for Budi, who is told" in r.get_data(as_text=True)


def test_a_parcel_s_courier_and_tracking_number_both_ways(net):
    """The lender names the courier and the tracking number (resi) as it
    ships, the borrowing library as it ships back; scanned at the desk, the
    number finds the request; a patron never finds by it."""
    rid = net.create().get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"].lower()
    r = net.act(lender, rid, "loaned", courier="JNE", tracking="CGK 1234 5678")
    assert r.status_code == 200
    body = net.get("home", rid).get_json()
    assert body["shipment"] == {"courier": "JNE", "tracking": "CGK12345678"} and body["return_shipment"] is None
    found = net.call("home", "GET", "/requests?side=borrowing&q=CGK12345678").get_json()["requests"]
    assert [r["id"] for r in found] == [rid]
    assert net.call("patron", "GET", "/requests?q=CGK12345678").get_json()["requests"] == []
    for action in ("received", "checked_out", "returned"):
        assert net.act("home", rid, action).status_code == 200
    assert net.act("home", rid, "shipped_return", courier="Pos Indonesia", tracking="P2612070001").status_code == 200
    body = net.get(lender, rid).get_json()
    assert body["return_shipment"] == {"courier": "Pos Indonesia", "tracking": "P2612070001"}
    found = net.call(lender, "GET", "/requests?side=lending&q=P2612070001").get_json()["requests"]
    assert [r["id"] for r in found] == [rid]
    assert net.act(lender, rid, "checked_in").status_code == 200
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="shipment"' in page and "CGK12345678" in page and "P2612070001" in page
    # too long a number is refused, naming it, and the request stays as it was
    other = net.create(who="patron2").get_json()["id"]
    other_lender = net.get("home", other).get_json()["current_lender"].lower()
    r = net.act(other_lender, other, "loaned", tracking="9" * 101)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "tracking"
    assert net.get("home", other).get_json()["status"] == "requested"


def test_the_shipping_label_of_each_parcel(net):
    """The lender prints the label of the loan it sends, addressed to the
    borrowing library; the borrowing library the label of the way back;
    nobody else has one, nor does a copy."""
    net.libs["HOME"].address = "Jl. Williem Iskandar Pasar V\nMedan Estate 20371"
    net.libs["HOME"].contacts = "0812-0000-0000"
    net.make.commit()
    rid = net.create().get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"]
    _login(net, lender.lower())
    page = net.client.get(f"/requests/{rid}/label").get_data(as_text=True)
    to = page.split('class="label-to"')[1].split("</section>")[0]
    assert "Perpustakaan HOME" in to and "Medan Estate 20371" in to and "0812-0000-0000" in to
    assert f"Perpustakaan {lender}" in page.split('class="label-from"')[1]
    assert 'id="label-link"' in net.client.get(f"/requests/{rid}").get_data(as_text=True)
    _login(net, "home")
    back = net.client.get(f"/requests/{rid}/label").get_data(as_text=True)
    assert f"Perpustakaan {lender}" in back.split('class="label-to"')[1].split("</section>")[0]
    assert "has no address in the partner directory" in back  # the lender's is not known
    # the lender's morning: every loan of its pull list on one sheet
    _login(net, lender.lower())
    assert 'id="labels-link"' in net.client.get("/requests/pull-list").get_data(as_text=True)
    sheet = net.client.get("/requests/pull-list/labels").get_data(as_text=True)
    assert f'data-request="{rid}"' in sheet and "Medan Estate 20371" in sheet
    _login(net, "x")
    assert net.client.get(f"/requests/{rid}/label").status_code == 404  # not theirs to see
    assert 'data-request' not in net.client.get("/requests/pull-list/labels").get_data(as_text=True)
    _login(net, "patron")
    assert net.client.get(f"/requests/{rid}/label").status_code == 403


def test_a_card_is_the_same_card_however_it_is_typed(net):
    """Spaces and case do not matter, wherever a card is looked for: the queue,
    the patrons list, the accounts list, the hold shelf, a request at the desk."""
    siti = net.users["patron"].id
    assert net.call("home", "PATCH", f"/users/{siti}", {"card_number": "nim-0401 2012"}).status_code == 200
    typed = "NIM-0401%202012"  # as a scanner might send it, spaced
    rid = net.create().get_json()["id"]
    assert [r["id"] for r in net.call("home", "GET", f"/requests?q={typed}").get_json()["requests"]] == [rid]
    assert [p["id"] for p in net.call("home", "GET", f"/patrons?q={typed}").get_json()["patrons"]] == [siti]
    assert [u["id"] for u in net.call("home", "GET", f"/users?q={typed}").get_json()["users"]] == [siti]
    assert net.act("home", rid, "cancel").status_code == 200
    r = net.create(who="home", patron="NIM-04012012")
    assert r.status_code == 201 and net.get("home", r.get_json()["id"]).get_json()["patron"]["id"] == siti


def test_the_book_bands_of_the_day_s_parcels(net):
    """The borrowing library prints the bands of the books it received today
    on one sheet; a book collected already has none; another day has its own."""
    from datetime import timedelta

    from ill import clock

    rid = net.create().get_json()["id"]
    other = net.create(who="patron2").get_json()["id"]
    for r in (rid, other):
        lender = net.get("home", r).get_json()["current_lender"].lower()
        assert net.act(lender, r, "loaned").status_code == 200
        assert net.act("home", r, "received").status_code == 200
    assert net.act("home", other, "checked_out").status_code == 200  # collected: off the shelf
    _login(net, "home")
    assert 'id="bands-link"' in net.client.get("/requests/hold-shelf").get_data(as_text=True)
    sheet = net.client.get("/requests/hold-shelf/bands").get_data(as_text=True)
    assert f'data-request="{rid}"' in sheet and f'data-request="{other}"' not in sheet and "Siti" in sheet
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    assert 'data-request' not in net.client.get(f"/requests/hold-shelf/bands?day={yesterday}").get_data(as_text=True)
    assert net.client.get("/requests/hold-shelf/bands?day=kemarin").status_code == 400
    _login(net, "patron")
    assert net.client.get("/requests/hold-shelf/bands").status_code == 403
