"""A lender's own lending rules (on its partner page): the forms it lends only
as copies, recent editions it keeps home, the most pages it copies and the
most requests it takes at once. Routing passes it over for a request they
rule out, with the rule as the reason, so that its staff never say no by hand."""

from __future__ import annotations

from sqlalchemy import select

from agreements.models import PartnerChange
from ill import clock


def _rules(net, who, code, **rules):
    return net.call(who, "PATCH", f"/partners/{code}", rules)


def _rota(net, rid):
    body = net.get("home", rid).get_json()
    placed = [row["library"] for row in body["rota"] if row["rank"] is not None]
    left_out = {row["library"]: row["reason"] for row in body["rota"] if row["rank"] is None}
    return body, placed, left_out


def test_a_library_sets_its_own_rules_and_bad_ones_are_named(net):
    r = _rules(net, "a", "A", no_loan_formats=["thesis", "Serial"], no_loan_recent_years=1,
               copy_max_pages=50, max_requests_waiting="10")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["no_loan_formats"] == ["serial", "thesis"]
    assert (body["no_loan_recent_years"], body["copy_max_pages"], body["max_requests_waiting"]) == (1, 50, 10)
    assert net.call("coord", "GET", "/partners/A").get_json()["no_loan_formats"] == ["serial", "thesis"]
    # the change is in the library's history, as every change of its settings
    net.session.expire_all()
    change = net.session.scalars(select(PartnerChange).where(PartnerChange.partner_id == net.libs["A"].id)
                                 .order_by(PartnerChange.id.desc())).first()
    assert change.changes["no_loan_formats"] == [[], ["serial", "thesis"]]
    before = net.call("coord", "GET", "/partners/A").get_json()
    for bad, field in (({"no_loan_formats": ["manuscript"]}, "no_loan_formats"),
                       ({"no_loan_formats": 7}, "no_loan_formats"),
                       ({"no_loan_recent_years": 0}, "no_loan_recent_years"),
                       ({"no_loan_recent_years": 51}, "no_loan_recent_years"),
                       ({"copy_max_pages": "fifty"}, "copy_max_pages"),
                       ({"max_requests_waiting": True}, "max_requests_waiting"),
                       ({"late_borrower_days": 366}, "late_borrower_days"),
                       ({"copy_max_pages": 40, "max_requests_waiting": -1}, "max_requests_waiting")):
        r = _rules(net, "a", "A", **bad)
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, (bad, r.get_json())
    assert net.call("coord", "GET", "/partners/A").get_json() == before  # a refused change changes nothing
    # only its own librarians or a coordinator; nothing for none
    assert _rules(net, "b", "A", copy_max_pages=5).status_code == 403
    assert _rules(net, "patron", "A", copy_max_pages=5).status_code == 403
    assert _rules(net, "coord", "A", copy_max_pages=None, no_loan_formats=[]).status_code == 200
    after = net.call("coord", "GET", "/partners/A").get_json()
    assert after["copy_max_pages"] is None and after["no_loan_formats"] == []


def test_a_form_lent_only_as_copies_sends_a_loan_to_the_next_library_and_a_copy_to_it(net):
    thesis = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]},
                                            title="Analisis layanan sirkulasi", fmt="thesis")
    net.make.commit()
    assert _rules(net, "a", "A", no_loan_formats="thesis").status_code == 200
    r = net.create(record_id=thesis.id)
    assert r.status_code == 201, r.get_json()
    body, placed, left_out = _rota(net, r.get_json()["id"])
    assert placed == ["B"] and body["current_lender"] == "B"
    assert left_out["A"] == "its lending rules: a thesis is lent only as copies"
    r = net.create(record_id=thesis.id, service="copy", copyright_ack=True, citation={"pages": "1-20"})
    assert r.status_code == 201, r.get_json()
    assert _rota(net, r.get_json()["id"])[1] == ["A", "B"]
    # the record page says so before anyone asks
    holdings = {h["library"]: h for h in net.call("patron", "GET", f"/records/{thesis.id}").get_json()["holdings"]}
    assert holdings["A"]["services"]["loan"] == {"requestable": False,
                                                 "reason": "its lending rules: a thesis is lent only as copies"}
    assert holdings["A"]["services"]["copy"]["requestable"] is True
    # the facts count how often A's rules kept it from being asked, and not as asked
    lending = {f["library"]: f["lending"] for f in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert (lending["A"]["ruled_out"], lending["A"]["asked"]) == (1, 1)  # the loan ruled out; the copy asked
    assert lending["B"]["ruled_out"] == 0
    from tests.ill.test_loan_pages import _login

    _login(net, "coord")
    page = net.client.get("/facts/").get_data(as_text=True)
    assert "Ruled out by its own rules" in page and '<td class="ruled-out">1</td>' in page
    csv = net.client.get("/facts/facts.csv").get_data(as_text=True).splitlines()
    header = csv[0].split(",")
    a_row = next(line.split(",") for line in csv if line.startswith("A,"))
    assert a_row[header.index("ruled_out")] == "1"


def test_this_years_editions_stay_home(net):
    new = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]},
                                         title="Buku Baru", year=clock.today().year)
    net.make.commit()
    _rules(net, "a", "A", no_loan_recent_years=1)
    rid = net.create(record_id=new.id).get_json()["id"]
    _body, placed, left_out = _rota(net, rid)
    assert placed == ["B"]
    assert left_out["A"] == f"its lending rules: editions published since {clock.today().year} are not lent"
    # a book of 2004 goes to A as before
    assert _rota(net, net.create().get_json()["id"])[1][0] == "A"


def test_a_copy_of_more_pages_than_a_library_copies_goes_to_the_next(net):
    _rules(net, "a", "A", copy_max_pages=20)
    rid = net.create(service="copy", copyright_ack=True, citation={"article_title": "Bab 2", "pages": "10-40"}
                     ).get_json()["id"]
    _body, placed, left_out = _rota(net, rid)
    assert placed == ["B"] and left_out["A"] == "its lending rules: copies of at most 20 pages (31 asked)"
    rid = net.create(who="patron2", service="copy", copyright_ack=True,
                     citation={"article_title": "Bab 3", "pages": "10-29"}).get_json()["id"]
    assert _rota(net, rid)[1] == ["A", "B"]


def test_a_library_with_as_many_requests_waiting_as_it_takes_is_passed_over_until_it_answers(net):
    _rules(net, "a", "A", max_requests_waiting=1)
    first = net.create().get_json()["id"]
    assert net.get("home", first).get_json()["current_lender"] == "A"
    other = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]},
                                           title="Fiqh Sunnah")
    net.make.commit()
    second = net.create(who="patron2", record_id=other.id).get_json()["id"]
    body, placed, left_out = _rota(net, second)
    assert body["current_lender"] == "B" and placed == ["B"]
    assert left_out["A"] == "its lending rules: at most 1 request waits on its answer at once, and it has one now"
    # the record page says so too; once A has answered the first, it takes requests again
    holdings = {h["library"]: h for h in net.call("patron", "GET", f"/records/{other.id}").get_json()["holdings"]}
    assert holdings["A"]["services"]["loan"]["requestable"] is False
    assert net.act("a", first, "unfilled", reason="missing").status_code == 200
    holdings = {h["library"]: h for h in net.call("patron", "GET", f"/records/{other.id}").get_json()["holdings"]}
    assert holdings["A"]["services"]["loan"]["requestable"] is True


def test_a_library_chosen_by_hand_is_held_to_its_rules_and_the_request_stays_as_it_was(net):
    _rules(net, "a", "A", copy_max_pages=10)
    r = net.create(who="home", record_id=None, service="copy", copyright_ack=True,
                   citation={"title": "Jurnal Iqra", "article_title": "Layanan", "pages": "1-30"})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    before = net.get("home", rid).get_json()
    r = net.act("home", rid, "route", lender="A")
    assert r.status_code == 409
    assert "copies of at most 10 pages (30 asked)" in r.get_json()["error"]["message"]
    after = net.get("home", rid).get_json()
    assert (after["status"], after["version"], after["rota"]) == (before["status"], before["version"], before["rota"])
    assert net.act("home", rid, "route", lender="B").status_code == 200


def test_a_librarian_sets_the_rules_on_the_library_s_page_and_others_read_them(net):
    from tests.ill.test_loan_pages import _login

    _login(net, "a")
    page = net.client.get("/partners/A").get_data(as_text=True)
    assert 'id="rules-form"' in page and "none: it is asked for whatever its copies can serve" in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "action": "rules", "no_loan_formats": ["thesis", "serial"],
            "no_loan_recent_years": "2", "copy_max_pages": "", "max_requests_waiting": "abc",
            "late_borrower_days": "30"}
    r = net.client.post("/partners/A", data=form)
    assert r.status_code == 400 and "max_requests_waiting" in r.get_data(as_text=True)
    net.session.expire_all()
    assert net.libs["A"].no_loan_formats == ""  # nothing saved
    assert 'value="abc"' in r.get_data(as_text=True)  # what was typed is kept on the form
    form["max_requests_waiting"] = "8"
    r = net.client.post("/partners/A", data=form)
    assert r.status_code == 302
    net.session.expire_all()
    assert (net.libs["A"].no_loan_formats, net.libs["A"].no_loan_recent_years, net.libs["A"].copy_max_pages,
            net.libs["A"].max_requests_waiting, net.libs["A"].late_borrower_days) == ("serial,thesis", 2, None, 8, 30)
    # another library's librarian reads them, and has no form to change them
    _login(net, "home")
    page = net.client.get("/partners/A").get_data(as_text=True)
    rules = page.split('id="lending-rules">')[1].split("</dd>")[0]
    assert "lent only as copies: serial, thesis" in rules
    assert f"editions published since {clock.today().year - 1} are not lent" in rules
    assert "at most 8 requests waiting on its answer at once" in rules
    assert "no new loan to a library keeping one of its books 30 days or more past its due date" in rules
    assert 'id="rules-form"' not in page
    home_csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert net.client.post("/partners/A", data={**form, "csrf_token": home_csrf, "copy_max_pages": "1"}
                           ).status_code == 403
    net.session.expire_all()
    assert net.libs["A"].copy_max_pages is None


def test_a_library_that_cannot_be_asked_when_its_turn_comes_is_passed_over_for_the_next(net, runner):
    """The rota is made when the request is; when A says no a week later, B,
    next, paused its lending meanwhile: B is passed over, and says why, and
    the request goes to the one after, or is unfilled when none is left."""
    third = net.make.partner("E", "Perpustakaan E")
    net.make.loan_agreement(net.libs["HOME"], third, response_days=3)
    from union_catalog.models import Item, SourceRecord

    record = SourceRecord(partner_id=third.id, record_key="E-1", control_number="E-1", ordinal=1, content_hash="E-1",
                          marc={}, title=net.cluster.title, cluster_id=net.cluster.id)
    record.items.append(Item(barcode="E-1-0", call_number="297", status="available"))
    net.session.add(record)
    net.make.commit()
    rid = net.create().get_json()["id"]
    body, placed, _left = _rota(net, rid)
    assert placed == ["A", "B", "E"] and body["current_lender"] == "A"
    # B pauses its lending for stock-taking; E's rules now take one request at a time, and it has one
    assert net.call("b", "PATCH", "/partners/B", {"lending_paused_until": clock.today().isoformat(),
                                                  "pause_reason": "stock opname"}).status_code == 200
    assert net.act("a", rid, "unfilled", reason="missing").status_code == 200
    body = net.get("home", rid).get_json()
    rows = {r["library"]: r for r in body["rota"]}
    assert body["status"] == "requested" and body["current_lender"] == "E"
    assert rows["B"]["outcome"] == "passed_over" and rows["B"]["outcome_detail"] == "paused"
    assert "lending paused until" in rows["B"]["passed_over"] and "stock opname" in rows["B"]["passed_over"]
    assert rows["E"]["outcome"] == "asked"
    # a pause is not a rule of its own: B's passing over counts nowhere in the facts
    lending = {f["library"]: f["lending"] for f in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert lending["B"]["ruled_out"] == 0
    event = body["events"][-1]
    # the request's page says so in the rota
    from tests.ill.test_loan_pages import _login

    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "passed over as its turn came: lending paused until" in page
    # B is not held to have been asked: the facts count it neither asked nor not supplied
    facts = {f["library"]: f["lending"] for f in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert facts["B"]["asked"] == 0 and facts["B"]["not_supplied"] == 0
    assert event["action"] == "unfilled"

    # E now takes one request at a time, and has this one; a record held by A and E
    third.max_requests_waiting = 1
    other = net.make.cluster_with_holdings({net.libs["A"]: ["available"], third: ["available"]}, title="Fiqh")
    net.make.commit()
    second = net.create(who="patron2", record_id=other.id).get_json()["id"]
    body, placed, left_out = _rota(net, second)
    assert body["current_lender"] == "A" and "E" in left_out  # E is full as the rota is made
    # and as its turn comes: a third request, made while E had room, finds it full when A says no
    third.max_requests_waiting = 2
    tafsir = net.make.cluster_with_holdings({net.libs["A"]: ["available"], third: ["available"]}, title="Tafsir")
    net.make.commit()
    r = net.create(who="patron2", record_id=tafsir.id)
    assert r.status_code == 201, r.get_json()
    last = r.get_json()["id"]
    assert _rota(net, last)[1] == ["A", "E"]
    third.max_requests_waiting = 1
    net.make.commit()
    assert net.act("a", last, "unfilled", reason="missing").status_code == 200
    body = net.get("home", last).get_json()
    rows = {r["library"]: r for r in body["rota"]}
    assert body["status"] == "unfilled" and body["current_lender"] is None
    assert (rows["E"]["outcome"], rows["E"]["outcome_detail"]) == ("passed_over", "rule_capacity")
    assert rows["E"]["passed_over"] == ("its lending rules: at most 1 request waits on its answer at once, "
                                        "and it has one now")
    # E's rule kept it out of two rotas: once as the rota was made, once as its turn came
    lending = {f["library"]: f["lending"] for f in net.call("coord", "GET", "/facts").get_json()["libraries"]}
    assert lending["E"]["ruled_out"] == 2
    # the unmet demand says why the last one went unfilled: A said no, E was full
    titles = {t["title"]: t for t in net.call("home", "GET", "/unmet").get_json()["titles"]}
    reasons = {r["reason"] for r in titles["Tafsir"]["reasons"]}
    assert reasons == {"a lender said: missing", "a holding library could not be asked: its lending rules: it has "
                                                 "as many requests waiting as it takes at once"}


def test_a_library_that_keeps_a_lenders_book_too_long_gets_no_new_loan_from_it_until_it_is_back(net):
    from datetime import timedelta

    from ill.models import LoanRequest

    assert _rules(net, "a", "A", late_borrower_days=14).get_json()["late_borrower_days"] == 14
    first = net.create().get_json()["id"]
    assert net.act("a", first, "loaned").status_code == 200
    assert net.act("home", first, "received").status_code == 200
    other = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]},
                                           title="Fiqh Sunnah")
    net.session.get(LoanRequest, first).due_date = clock.today() - timedelta(days=13)
    net.make.commit()
    # 13 days late: A still lends
    assert _rota(net, net.create(who="patron2", record_id=other.id).get_json()["id"])[1] == ["A", "B"]
    net.session.get(LoanRequest, first).due_date = clock.today() - timedelta(days=14)
    net.make.commit()
    # 14 days late: A lends HOME no more, and says why; copies still; X, another library, still borrows
    holdings = {h["library"]: h for h in net.call("patron", "GET", f"/records/{other.id}").get_json()["holdings"]}
    assert holdings["A"]["services"]["loan"] == {
        "requestable": False,
        "reason": "its lending rules: no new loan while the borrowing library keeps one of its books 14 days or "
                  "more past its due date"}
    assert holdings["A"]["services"]["copy"]["requestable"] is True
    rid = net.create(record_id=other.id, service="copy", copyright_ack=True, citation={"pages": "1-2"}
                     ).get_json()["id"]
    assert sorted(_rota(net, rid)[1]) == ["A", "B"]
    third = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]},
                                           title="Tafsir")
    net.make.commit()
    body, placed, left_out = _rota(net, net.create(record_id=third.id).get_json()["id"])
    assert placed == ["B"] and "14 days or more past its due date" in left_out["A"]
    x_holdings = {h["library"]: h for h in net.call("xpatron", "GET", f"/records/{third.id}").get_json()["holdings"]}
    assert x_holdings["A"]["services"]["loan"]["requestable"] is True
    # once the book is on its way back, A lends again
    assert net.act("home", first, "returned").status_code == 200
    assert net.act("home", first, "shipped_return").status_code == 200
    holdings = {h["library"]: h for h in net.call("patron", "GET", f"/records/{third.id}").get_json()["holdings"]}
    assert holdings["A"]["services"]["loan"]["requestable"] is True


def test_a_library_whose_copies_can_no_longer_serve_when_its_turn_comes_is_passed_over(net):
    """The rota is A, then B. While A thinks it over, B's copy goes out on
    loan (its statuses sent); when A says no, B is passed over rather than
    asked for a book it cannot lend, and the request is unfilled at once.
    A library whose records have left the catalogue meanwhile is passed
    over too, and said so."""
    from union_catalog.models import Item, SourceRecord

    rid = net.create().get_json()["id"]
    assert _rota(net, rid)[1] == ["A", "B"]
    for item in net.session.scalars(select(Item).join(SourceRecord).where(
            SourceRecord.partner_id == net.libs["B"].id, SourceRecord.cluster_id == net.cluster.id)):
        item.status = "on_loan"
    net.make.commit()
    assert net.act("a", rid, "unfilled", reason="missing").status_code == 200
    body = net.get("home", rid).get_json()
    rows = {r["library"]: r for r in body["rota"]}
    assert body["status"] == "unfilled"
    assert (rows["B"]["outcome"], rows["B"]["outcome_detail"], rows["B"]["passed_over"]) == (
        "passed_over", "all_on_loan", "all copies on loan")
    # its records withdrawn from the catalogue: said so
    c = net.make.cluster_with_holdings({net.libs["A"]: ["available"], net.libs["B"]: ["available"]}, title="Fiqh")
    net.make.commit()
    third = net.create(record_id=c.id).get_json()["id"]
    assert _rota(net, third)[1] == ["A", "B"]
    from datetime import UTC, datetime

    for record in net.session.scalars(select(SourceRecord).where(SourceRecord.cluster_id == c.id,
                                                                 SourceRecord.partner_id == net.libs["B"].id)):
        record.withdrawn_at = datetime.now(UTC)
    net.make.commit()
    assert net.act("a", third, "unfilled", reason="missing").status_code == 200
    rows = {r["library"]: r for r in net.get("home", third).get_json()["rota"]}
    assert rows["B"]["passed_over"] == "its copies are no longer in the union catalogue"


def test_a_union_record_merged_since_the_request_was_made_is_followed_at_the_turn_and_in_a_new_round(net):
    """Re-clustering merges the request's union record into another, its
    libraries' records moving there: at B's turn B is asked, not passed over
    as if it held nothing; and a new round (retry) finds the holders there."""
    from union_catalog.models import Cluster, SourceRecord

    rid = net.create().get_json()["id"]
    other = net.make.cluster_with_holdings({}, title="Sejarah Islam di Nusantara (merged)")
    for record in net.session.scalars(select(SourceRecord).where(SourceRecord.cluster_id == net.cluster.id)):
        record.cluster_id = other.id
    net.session.get(Cluster, net.cluster.id).merged_into_id = other.id
    net.make.commit()
    assert net.act("a", rid, "unfilled", reason="missing").status_code == 200
    body = net.get("home", rid).get_json()
    assert body["status"] == "requested" and body["current_lender"] == "B"
    assert net.act("b", rid, "unfilled", reason="missing").status_code == 200
    assert net.act("home", rid, "retry").status_code == 200
    body = net.get("home", rid).get_json()
    assert body["status"] == "requested"
    assert {r["library"] for r in body["rota"] if r["round"] == 2 and r["rank"]} == {"A", "B"}
