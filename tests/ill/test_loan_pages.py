"""The pages: request form, my requests, queues, the request page, pick slip."""

from __future__ import annotations

import re
from datetime import date, timedelta

from babel.dates import format_date

from ill import clock
from tests.factories import login


def _login(net, who):
    net.client.post("/logout")
    r = login(net.client, net.users[who].email)
    assert r.status_code == 302


def test_patron_requests_from_the_record_and_sees_it(net):
    _login(net, "patron")
    r = net.client.get(f"/requests/new?record_id={net.cluster.id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert net.cluster.title in page
    assert "Perpustakaan C" in page and "expired" in page  # why C cannot be asked
    r = net.client.post(f"/requests/new?record_id={net.cluster.id}", data={"service": "loan", "note": "thesis"})
    assert r.status_code == 303
    detail = net.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "thesis" in detail and "Perpustakaan A" in detail
    assert "Rota" not in detail  # staff only
    mine = net.client.get("/requests/mine").get_data(as_text=True)
    assert net.cluster.title in mine and 'data-status="requested"' in mine


def test_request_form_errors_are_shown_and_nothing_is_made(net):
    _login(net, "patron")
    r = net.client.post(f"/requests/new?record_id={net.cluster.id}", data={"service": "copy", "pages": "3-9"})
    assert r.status_code == 400
    assert "copyright" in r.get_data(as_text=True)
    assert net.call("patron", "GET", "/requests").get_json()["requests"] == []


def test_citation_request_by_form(net):
    _login(net, "patron")
    r = net.client.post("/requests/new", data={"service": "loan", "title": "Naskah Melayu Kuno", "author": "Anonim"})
    assert r.status_code == 303
    rid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    assert net.get("home", rid).get_json()["status"] == "new"


def test_lender_answers_on_the_request_page(net):
    rid = net.create().get_json()["id"]
    _login(net, "a")
    queue = net.client.get("/requests/?side=lending").get_data(as_text=True)
    assert f">{rid}<" in queue and "Will supply" in queue
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Rota" in page and "no cooperation agreement" in page and 'id="action-will_supply"' in page
    version = net.get("a", rid).get_json()["version"]
    r = net.client.post(f"/requests/{rid}/act", data={"action": "will_supply", "version": version})
    assert r.status_code == 303
    assert net.get("a", rid).get_json()["status"] == "will_supply"
    # the same form again: stale, refused with a message, nothing changes
    r = net.client.post(f"/requests/{rid}/act", data={"action": "loaned", "version": version}, follow_redirects=True)
    assert "reload" in r.get_data(as_text=True)
    assert net.get("a", rid).get_json()["status"] == "will_supply"
    slip = net.client.get(f"/requests/{rid}/slip")
    assert slip.status_code == 200 and "297.9 AZR" in slip.get_data(as_text=True)


def test_borrowing_queue_counts_and_filters(net):
    net.create()
    net.create(who="patron2")
    _login(net, "home")
    page = net.client.get("/requests/?side=borrowing").get_data(as_text=True)
    assert "Borrowing (2)" in page
    page = net.client.get("/requests/?side=borrowing&status=completed").get_data(as_text=True)
    assert "No requests here." in page
    page = net.client.get("/requests/?side=borrowing&status=nonsense").get_data(as_text=True)
    assert "Unknown status" in page


def test_pages_keep_tenants_apart(net):
    rid = net.create().get_json()["id"]
    for who in ("x", "patron2", "b"):
        _login(net, who)
        assert net.client.get(f"/requests/{rid}").status_code == 404, who
        r = net.client.post(f"/requests/{rid}/act", data={"action": "cancel", "version": 2})
        assert r.status_code == 404, who
    assert net.get("home", rid).get_json()["status"] == "requested"
    _login(net, "patron")
    assert net.client.get("/requests/").status_code == 403
    assert net.client.get(f"/requests/{rid}/slip").status_code == 403
    assert net.client.get(f"/requests/{rid}/act").status_code == 405
    net.client.post("/logout")
    assert net.client.get("/requests/mine").status_code == 302


def test_patron_cancels_on_the_page(net):
    rid = net.create().get_json()["id"]
    _login(net, "patron")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="action-cancel"' in page and 'id="action-will_supply"' not in page
    net.client.post(f"/requests/{rid}/act", data={"action": "cancel", "version": 2, "reason": "bought it"})
    assert net.get("patron", rid).get_json()["status"] == "cancelled"


def test_held_at_home_is_said_on_the_form(net):
    cluster = net.make.cluster_with_holdings({net.libs["HOME"]: ["available"]}, title="Ada di rumah")
    net.make.commit()
    _login(net, "patron")
    r = net.client.post(f"/requests/new?record_id={cluster.id}", data={"service": "loan"})
    assert r.status_code == 409 and "desk" in r.get_data(as_text=True)


def test_the_request_page_speaks_indonesian(net):
    rid = net.create().get_json()["id"]
    net.users["patron"].locale = "id"
    net.make.commit()
    _login(net, "patron")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Permintaan" in page and "diminta" in page and "Batalkan" in page
    r = net.call("patron", "POST", f"/requests/{rid}/actions", {"action": "received", "version": 2})
    assert "tidak dapat dilakukan" in r.get_json()["error"]["message"]


def test_a_lost_book_is_reported_and_settled_on_the_request_page(net):
    rid = net.create().get_json()["id"]
    for actor, action in [("a", "loaned"), ("home", "received"), ("home", "checked_out")]:
        assert net.act(actor, rid, action).status_code == 200
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="action-report_lost"' in page and 'name="reason" required' in page
    version = net.get("home", rid).get_json()["version"]
    # without saying what happened: refused with the message, nothing changes
    r = net.client.post(f"/requests/{rid}/act", data={"action": "report_lost", "version": version},
                        follow_redirects=True)
    assert "needs &#39;reason&#39;" in r.get_data(as_text=True)
    assert net.get("home", rid).get_json()["status"] == "checked_out"
    r = net.client.post(f"/requests/{rid}/act", data={"action": "report_lost", "version": version,
                                                       "reason": "dropped in the river"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert 'data-status="lost"' in page and 'id="lost-on"' in page and "dropped in the river" in page
    _login(net, "a")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="action-settle_lost"' in page and 'name="charge"' in page
    r = net.client.post(f"/requests/{rid}/act", data={"action": "settle_lost", "version": version + 1,
                                                       "charge": "Rp 200.000"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert 'data-status="completed_without_return"' in page and "closed without return" in page
    assert '<dd id="charge">Rp 200.000</dd>' in page


def test_the_request_form_says_how_many_open_requests_the_patron_may_still_make(net):
    net.libs["HOME"].max_open_requests = 1
    net.make.commit()
    _login(net, "patron")
    page = net.client.get(f"/requests/new?record_id={net.cluster.id}").get_data(as_text=True)
    assert "You have 0 of the 1 open requests your library allows each patron." in page
    assert net.client.post(f"/requests/new?record_id={net.cluster.id}", data={"service": "loan"}).status_code == 303
    r = net.client.post("/requests/new", data={"service": "loan", "title": "Naskah Melayu Kuno"})
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "You have 1 of the 1 open requests" in page and "Wait until one is finished" in page


def test_the_lenders_pull_list_has_what_to_fetch_in_shelf_order(net):
    from sqlalchemy import select

    from union_catalog.models import Item, SourceRecord

    def shelve(cluster, library, *calls):
        items = net.session.scalars(
            select(Item).join(SourceRecord, SourceRecord.id == Item.source_record_id)
            .where(SourceRecord.cluster_id == cluster.id, SourceRecord.partner_id == library.id)
            .order_by(Item.id)).all()
        for item, call in zip(items, calls, strict=True):
            item.call_number = call
        net.make.commit()

    a = net.libs["A"]
    shelve(net.cluster, a, "899.2 AZR j")
    hikayat = net.make.cluster_with_holdings({a: ["on_loan", "available"]}, title="Hikayat Raja Pasai")
    shelve(hikayat, a, "297.9 HIK h", "297.9 HIK h c.2")
    tafsir = net.make.cluster_with_holdings({a: ["available"]}, title="Tafsir al-Misbah")
    shelve(tafsir, a, "297.122 SHI t")
    # asked in this order; on the shelves, the later one comes first
    second = net.create().get_json()["id"]
    later = (clock.today() + timedelta(days=9)).isoformat()
    first = net.create(record_id=hikayat.id, needed_by=later).get_json()["id"]
    shipped = net.create(who="patron2", record_id=tafsir.id).get_json()["id"]
    assert {net.get("home", r).get_json()["current_lender"] for r in (first, second, shipped)} == {"A"}
    assert net.act("a", first, "will_supply").status_code == 200
    assert net.act("a", shipped, "loaned").status_code == 200

    _login(net, "a")
    r = net.client.get("/requests/pull-list")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    # shelf order: 297.9 before 899.2, the copy on the shelf before the one on loan;
    # what has left already is not there
    assert page.index(f">{first}<") < page.index(f">{second}<") and f">{shipped}<" not in page
    assert page.index("297.9 HIK h c.2") < page.index("297.9 HIK h<") < page.index("899.2 AZR j")
    assert "Tafsir al-Misbah" not in page
    assert "Perpustakaan HOME" in page and "Printed" in page
    assert 'data-print' in page and "Siti" not in page  # lenders are not told who the patron is
    # its own copies only: B's copies of the same record are not on A's list
    assert "B-" not in page
    queue = net.client.get("/requests/?side=lending").get_data(as_text=True)
    assert 'href="/requests/pull-list"' in queue

    # the same through the API, for a library's own scripts
    body = net.call("a", "GET", "/pull-list").get_json()
    assert body["library"] == "A" and [r["id"] for r in body["requests"]] == [first, second]
    assert [c["call_number"] for c in body["requests"][0]["copies"]] == ["297.9 HIK h c.2", "297.9 HIK h"]
    assert body["requests"][0]["needed_by"] == later and body["requests"][0]["borrower"] == "HOME"
    assert net.call("b", "GET", "/pull-list").get_json()["requests"] == []
    assert net.call("patron", "GET", "/pull-list").status_code == 403

    _login(net, "b")
    page = net.client.get("/requests/pull-list").get_data(as_text=True)
    assert f">{first}<" not in page and f">{second}<" not in page and "Nothing to fetch" in page
    for who in ("patron", "coord"):
        _login(net, who)
        assert net.client.get("/requests/pull-list").status_code == 403


def _barcode_field(form: str, name: str = "barcode") -> tuple[str, list[tuple[str, str]]]:
    """The barcode input's value and its datalist's (barcode, description)s."""
    (tag,) = re.findall(rf'<input[^>]*name="{name}"[^>]*>', form)
    value = re.search(r'value="([^"]*)"', tag).group(1)
    listed = form[form.index("<datalist"):form.index("</datalist>")]
    return value, re.findall(r'<option value="([^"]*)">([^<]*)', listed)


def test_the_shipping_form_asks_which_copy_was_sent_and_offers_the_lenders_copies(net):
    cluster = net.make.cluster_with_holdings({net.libs["A"]: ["on_loan", "available"]}, title="Hikayat Raja Pasai")
    net.make.commit()
    rid = net.create(record_id=cluster.id).get_json()["id"]
    _login(net, "a")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    form = page[page.index('id="action-loaned"'):]
    form = form[:form.index("</form>")]
    value, options = _barcode_field(form)
    # two copies: none is filled in for the librarian, who scans the one on the desk;
    # both are offered, the one on the shelf first
    assert value == "" and "2 copies: scan the one sent" in form
    assert len(options) == 2 and options[0][1].endswith("· available") and options[1][1].endswith("· on_loan")
    version = net.get("a", rid).get_json()["version"]
    r = net.client.post(f"/requests/{rid}/act", data={"action": "loaned", "version": version,
                                                      "barcode": "NO-SUCH-COPY"}, follow_redirects=True)
    assert "no copy of this record with the barcode &#39;NO-SUCH-COPY&#39;" in r.get_data(as_text=True)
    assert net.get("a", rid).get_json()["status"] == "requested"  # as it was
    r = net.client.post(f"/requests/{rid}/act", data={"action": "loaned", "version": version,
                                                      "barcode": f" {options[1][0]} "})  # a scanner's spaces
    assert r.status_code == 303 and net.get("a", rid).get_json()["item_barcode"] == options[1][0]
    assert f'<dd id="item-barcode">{options[1][0]}</dd>' in net.client.get(f"/requests/{rid}").get_data(as_text=True)
    # a record the library has one copy of: that copy is filled in
    single = net.create(who="patron2").get_json()["id"]
    assert net.get("a", single).get_json()["current_lender"] == "A"
    page = net.client.get(f"/requests/{single}").get_data(as_text=True)
    form = page[page.index('id="action-loaned"'):]
    value, options = _barcode_field(form[:form.index("</form>")])
    assert len(options) == 1 and value == options[0][0] != ""


def test_the_borrowing_library_prints_a_book_band_for_a_loan_received(net):
    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "loaned").status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    due = net.get("home", rid).get_json()["due_date"]
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="band-link"' in page
    band = net.client.get(f"/requests/{rid}/band")
    text = band.get_data(as_text=True)
    assert band.status_code == 200 and "Siti" in text and "Perpustakaan A" in text and "data-print" in text
    assert format_date(date.fromisoformat(due), "long", locale="en") in text
    # the lender has no band to print, and never sees the patron's name
    _login(net, "a")
    assert 'id="band-link"' not in net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert net.client.get(f"/requests/{rid}/band").status_code == 403


def test_the_loans_fetched_are_marked_shipped_from_the_pull_list_each_on_its_own(net):
    hikayat = net.make.cluster_with_holdings({net.libs["A"]: ["available"]}, title="Hikayat Raja Pasai")
    net.make.commit()
    first = net.create().get_json()["id"]
    second = net.create(who="patron2", record_id=hikayat.id).get_json()["id"]
    copy = net.create(service="copy", copyright_ack=True, citation={"article_title": "Bab 2"}).get_json()["id"]
    assert {net.get("home", r).get_json()["current_lender"] for r in (first, second)} == {"A"}
    _login(net, "a")
    page = net.client.get("/requests/pull-list").get_data(as_text=True)
    assert f'id="ship-{first}"' in page and f'id="ship-{second}"' in page
    assert net.get("home", copy).get_json()["current_lender"] == "B"  # A has two to answer already
    versions = {r: net.get("a", r).get_json()["version"] for r in (first, second)}
    barcode, _options = _barcode_field(page[page.index(f'name="barcode-{first}"') - 10:], f"barcode-{first}")
    assert barcode  # A's one copy, filled in
    # meanwhile the second was answered elsewhere: its version is stale
    assert net.act("a", second, "expect_to_supply").status_code == 200
    r = net.client.post("/requests/pull-list", data={
        "ship": [str(first), str(second)], f"version-{first}": versions[first], f"barcode-{first}": barcode,
        f"version-{second}": versions[second], f"barcode-{second}": ""}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert f"Marked shipped: #{first}." in page and f"Request #{second} was not marked shipped" in page
    first_now, second_now = net.get("a", first).get_json(), net.get("a", second).get_json()
    assert first_now["status"] == "loaned" and first_now["item_barcode"] == barcode and first_now["due_date"]
    assert second_now["status"] == "expect_to_supply"  # as it was
    # nothing ticked: said so, nothing changes
    r = net.client.post("/requests/pull-list", data={}, follow_redirects=True)
    assert "Tick the loans you have fetched, or the items not on the shelf" in r.get_data(as_text=True)
    # another library's request cannot be shipped from here; a copy is sent with its file, from its page
    _login(net, "b")
    page = net.client.get("/requests/pull-list").get_data(as_text=True)
    assert f">{copy}<" in page and f'id="ship-{copy}"' not in page
    r = net.client.post("/requests/pull-list", data={"ship": [str(second)], f"version-{second}": "3"},
                        follow_redirects=True)
    assert f"Request #{second} was not marked shipped" in r.get_data(as_text=True)
    assert net.get("a", second).get_json()["status"] == "expect_to_supply"


def test_items_not_on_the_shelf_pass_to_the_next_lender_from_the_pull_list(net):
    hikayat = net.make.cluster_with_holdings({net.libs["A"]: ["available"]}, title="Hikayat Raja Pasai")
    net.make.commit()
    gone = net.create().get_json()["id"]  # A first, then B holds it too
    unsure = net.create(who="patron2", record_id=hikayat.id).get_json()["id"]
    copy = net.create(service="copy", copyright_ack=True, citation={"article_title": "Bab 2"}).get_json()["id"]
    assert net.get("home", copy).get_json()["current_lender"] == "B"
    _login(net, "a")
    page = net.client.get("/requests/pull-list").get_data(as_text=True)
    assert f'id="missing-{gone}"' in page and f'id="missing-{unsure}"' in page
    versions = {r: net.get("a", r).get_json()["version"] for r in (gone, unsure)}
    r = net.client.post("/requests/pull-list", data={
        "missing": [str(gone), str(unsure)], "ship": [str(unsure)],
        f"version-{gone}": versions[gone], f"version-{unsure}": versions[unsure]}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert f"Not on the shelf, passed to the next lender: #{gone}." in page
    assert f"Request #{unsure} was ticked both fetched and not on the shelf" in page
    moved = net.get("home", gone).get_json()
    assert moved["current_lender"] == "B" and moved["status"] == "requested"
    a_said = [e for e in moved["rota"] if e["library"] == "A"][0]
    assert a_said["outcome"] == "unfilled" and a_said["outcome_detail"] == "missing"
    assert net.get("a", unsure).get_json()["version"] == versions[unsure]  # as it was
    # a copy request is answered the same way from the lender's list
    _login(net, "b")
    page = net.client.get("/requests/pull-list").get_data(as_text=True)
    assert f'id="missing-{copy}"' in page and f'id="ship-{copy}"' not in page
