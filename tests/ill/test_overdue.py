"""Books that should be back: loans past due and not shipped back, losses not
settled; each library sees its own, coordinators the network, and only the
borrowing library the patron's name."""

from __future__ import annotations

from datetime import timedelta

from ill import clock
from ill.extensions import db
from ill.models import LoanRequest
from ill.overdue import LateLoan, tally


def _loan(net, who="patron", **body) -> int:
    rid = net.create(who=who, **body).get_json()["id"]
    assert net.act("a", rid, "loaned").status_code == 200
    return rid


def _due(rid: int, days_ago: int) -> None:
    db.session.get(LoanRequest, rid).due_date = clock.today() - timedelta(days=days_ago)
    db.session.commit()


def _world(net):
    others = {title: net.make.cluster_with_holdings({net.libs["A"]: ["available"]}, title=title).id
              for title in ("Hikayat Aceh", "Tajus Salatin", "Bustanus Salatin")}
    net.make.commit()
    long_late = _loan(net)  # with the patron, 20 days late
    assert net.act("home", long_late, "received").status_code == 200
    assert net.act("home", long_late, "checked_out").status_code == 200
    _due(long_late, 20)
    a_little = _loan(net, who="patron2")  # received, 3 days late
    assert net.act("home", a_little, "received").status_code == 200
    _due(a_little, 3)
    not_yet = _loan(net, record_id=others["Hikayat Aceh"])  # due in weeks
    on_its_way = _loan(net, who="patron2", record_id=others["Tajus Salatin"])
    for action in ("received", "returned", "shipped_return"):
        assert net.act("home", on_its_way, action).status_code == 200
    _due(on_its_way, 30)  # shipped back: the lender's to check in, no longer late
    lost = _loan(net, record_id=others["Bustanus Salatin"])
    assert net.act("home", lost, "report_lost", reason="left on the bus").status_code == 200
    return {"long": long_late, "little": a_little, "not_yet": not_yet, "back": on_its_way, "lost": lost}


def test_each_library_sees_its_books_that_should_be_back_and_only_its_own_patrons(net):
    ids = _world(net)
    body = net.call("coord", "GET", "/overdue").get_json()
    assert [x["request_id"] for x in body["late"]] == [ids["long"], ids["little"]]  # the latest first
    first, second = body["late"]
    assert first["days_late"] == 20 and first["long_overdue"] and first["status"] == "checked_out"
    assert second["days_late"] == 3 and not second["long_overdue"] and second["status"] == "received"
    assert first["borrower"] == "HOME" and first["lender"] == "A"
    assert [x["request_id"] for x in body["lost"]] == [ids["lost"]]
    assert body["lost"][0]["lost_on"] == clock.today().isoformat()
    assert all(x["patron"] is None for x in body["late"] + body["lost"])  # a coordinator sees no patron
    libraries = {t["library"]: t for t in body["libraries"]}
    assert libraries["HOME"]["borrowed_late"] == 2 and libraries["HOME"]["borrowed_long"] == 1
    assert libraries["HOME"]["borrowed_lost"] == 1 and libraries["HOME"]["lent_late"] == 0
    assert libraries["A"]["lent_late"] == 2 and libraries["A"]["lent_long"] == 1 and libraries["A"]["lent_lost"] == 1
    # the borrowing library sees its patrons' names; the lender the same books without them
    home = net.call("home", "GET", "/overdue").get_json()
    assert [x["patron"] for x in home["late"]] == ["Siti", "Budi"] and home["lost"][0]["patron"] == "Siti"
    lender = net.call("a", "GET", "/overdue").get_json()
    assert [x["request_id"] for x in lender["late"]] == [ids["long"], ids["little"]]
    assert all(x["patron"] is None for x in lender["late"] + lender["lost"])
    # a library with no part in them sees none; a patron none at all
    other = net.call("x", "GET", "/overdue").get_json()
    assert other["late"] == [] and other["lost"] == [] and other["libraries"] == []
    assert net.call("patron", "GET", "/overdue").status_code == 403
    # a coordinator narrows it to one library; a code nobody has is named
    only_b = net.call("coord", "GET", "/overdue?library=b").get_json()
    assert only_b["late"] == [] and only_b["lost"] == []
    r = net.call("coord", "GET", "/overdue?library=NOPE")
    assert r.status_code == 400 and "NOPE" in r.get_json()["error"]["message"]


def test_the_page_and_its_spreadsheet(net):
    from tests.ill.test_loan_pages import _login

    ids = _world(net)
    _login(net, "home")
    page = net.client.get("/facts/overdue", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'id="late-{ids["long"]}"' in page and f'id="late-{ids["little"]}"' in page
    assert f'id="late-{ids["not_yet"]}"' not in page and f'id="late-{ids["back"]}"' not in page
    assert f'id="lost-{ids["lost"]}"' in page and "Siti" in page and "Long overdue" in page
    sheet = net.client.get("/facts/overdue.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert sheet[0].startswith("request,title,borrower,lender,status,due_date,days_late")
    assert len(sheet) == 4 and sheet[1].split(",")[0] == str(ids["long"]) and ",yes," in sheet[1]
    _login(net, "a")
    page = net.client.get("/facts/overdue", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'id="late-{ids["long"]}"' in page and "Siti" not in page and "Budi" not in page
    _login(net, "coord")
    assert 'id="overdue-link"' in net.client.get("/facts/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    page = net.client.get("/facts/overdue?library=HOME", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<option value="HOME" selected>' in page and f'id="late-{ids["long"]}"' in page


def test_tally_counts_each_side():
    def loan(rid, borrower, lender, long=False, lost=False):
        return LateLoan(rid, "t", borrower, lender, "lost" if lost else "overdue", None, 20, long, None, None,
                        None, None)

    out = tally([loan(1, 1, 2, long=True), loan(2, 1, 3), loan(3, 2, None)], [loan(4, 3, 1, lost=True)])
    assert (out[1].borrowed_late, out[1].borrowed_long, out[1].lent_lost) == (2, 1, 1)
    assert (out[2].lent_late, out[2].lent_long, out[2].borrowed_late) == (1, 1, 1)
    assert (out[3].lent_late, out[3].borrowed_lost) == (1, 1)
