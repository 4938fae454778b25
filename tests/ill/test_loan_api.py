"""The loan cycle through the API alone."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ill import clock
from ill.notify import Notice


def test_a_loan_is_routed_only_to_holders_under_a_live_agreement(net):
    r = net.create()
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "requested"
    body = net.get("home", r.get_json()["id"]).get_json()
    placed = [row for row in body["rota"] if row["rank"] is not None]
    left_out = {row["library"]: row["reason"] for row in body["rota"] if row["rank"] is None}
    # A before B: A's copy is as certain, and A's and B's loads are equal; ties by code
    assert [row["library"] for row in placed] == ["A", "B"]
    assert body["current_lender"] == "A"
    assert set(left_out) == {"C", "D"}
    assert "expired" in left_out["C"]
    assert "no cooperation agreement" in left_out["D"]
    assert placed[0]["outcome"] == "asked" and placed[1]["outcome"] == "waiting"
    assert [(e["from"], e["to"]) for e in body["events"]] == [(None, "new"), ("new", "requested")]


def test_a_lender_whose_statuses_are_months_old_is_asked_after_a_fresh_one(net):
    """A's copy was on the shelf as of its last export, five months ago; B's
    statuses came this week: B is asked first, and the rota says why."""
    from datetime import UTC, datetime

    from union_catalog.models import ImportRun, StatusUpdate

    months_ago = datetime.now(UTC) - timedelta(days=150)
    net.session.add(ImportRun(partner_id=net.libs["A"].id, filename="a.mrc", status="done", finished_at=months_ago))
    net.session.add(StatusUpdate(partner_id=net.libs["B"].id, read=3, changed=1))
    net.session.commit()
    r = net.create()
    assert r.status_code == 201, r.get_json()
    body = net.get("home", r.get_json()["id"]).get_json()
    placed = [row for row in body["rota"] if row["rank"] is not None]
    assert [row["library"] for row in placed] == ["B", "A"] and body["current_lender"] == "B"
    assert "a copy was on the shelf as of" in placed[1]["reason"] and "sent nothing since" in placed[1]["reason"]


def test_the_full_loan_path_through_the_api(net):
    rid = net.create(note="for my thesis").get_json()["id"]
    steps = [
        ("a", "will_supply", {}, "will_supply"),
        ("a", "loaned", {}, "loaned"),
        ("home", "received", {}, "received"),
        ("home", "checked_out", {}, "checked_out"),
        ("home", "returned", {}, "returned"),
        ("home", "shipped_return", {}, "shipped_return"),
        ("a", "checked_in", {"note": "all fine"}, "completed"),
    ]
    for who, action, params, status in steps:
        r = net.act(who, rid, action, **params)
        assert r.status_code == 200, (action, r.get_json())
        assert r.get_json()["status"] == status
    body = net.get("patron", rid).get_json()
    # the due date comes from the agreement's loan period (21 days with A)
    assert body["due_date"] == (clock.today() + timedelta(days=21)).isoformat()
    assert [e["to"] for e in body["events"]] == [
        "new",
        "requested",
        "will_supply",
        "loaned",
        "received",
        "checked_out",
        "returned",
        "shipped_return",
        "completed",
    ]
    assert body["version"] == len(body["events"])  # the insert is version 1, each transition +1
    assert body["events"][-1]["note"] == "all fine"
    assert body["events"][-1]["actor"].endswith("(A)")


def _notices(net, user, kind):
    from sqlalchemy import select

    from ill.notify import Notice

    net.session.expire_all()
    return list(net.session.scalars(select(Notice).where(Notice.user_id == net.users[user].id,
                                                         Notice.kind == kind)))


def test_a_book_lost_with_the_patron_is_reported_then_settled_by_the_lender(net):
    rid = _to_checked_out(net)
    before = net.get("home", rid).get_json()
    # only the borrowing library reports a loss, and says what happened
    assert net.act("a", rid, "report_lost", reason="x").status_code == 403
    assert net.act("patron", rid, "report_lost", reason="x").status_code == 403
    assert net.act("b", rid, "report_lost", version=before["version"], reason="x").status_code == 404
    r = net.act("home", rid, "report_lost", reason=" ")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "reason"
    assert net.get("home", rid).get_json()["version"] == before["version"]
    assert net.get("home", rid).get_json()["status"] == "checked_out"

    r = net.act("home", rid, "report_lost", reason="the patron lost it on the bus")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "lost" and body["lost_on"] == clock.today().isoformat()
    assert body["actions"] == ["found", "message", "staff_note"]
    (told,) = _notices(net, "a", "loan_lost")
    assert "Reported lost" in told.subject and "the patron lost it on the bus" in told.body
    # no cancelling it now: the lender settles the loss or the book turns up
    r = net.act("home", rid, "cancel", reason="never mind")
    assert r.status_code == 409 and "reported lost" in r.get_json()["error"]["message"]
    # the lender sees it in its lending queue and settles it
    queue = net.call("a", "GET", "/requests?side=lending&status=lost").get_json()["requests"]
    assert [q["id"] for q in queue] == [rid]
    assert set(net.get("a", rid).get_json()["actions"]) == {"settle_lost", "checked_in", "message", "staff_note"}
    r = net.act("a", rid, "settle_lost", charge="Rp 150.000 or a replacement copy", note="same edition please")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "completed_without_return" and body["charge"] == "Rp 150.000 or a replacement copy"
    assert body["actions"] == [] and net.get("home", rid).get_json()["actions"] == []
    (told,) = _notices(net, "home", "loss_settled")
    assert "Rp 150.000" in told.body and "same edition please" in told.body
    # closed: the patron may ask for the book again (an open loan of it would be a duplicate)
    assert net.create(who="patron").status_code == 201


def test_a_lost_book_that_turns_up_goes_back_to_the_lender(net):
    rid = _to_checked_out(net)
    assert net.act("home", rid, "report_lost", reason="not on the shelf").status_code == 200
    body = net.act("home", rid, "found", note="behind the returns desk").get_json()
    assert body["status"] == "returned" and body["lost_on"] is None
    assert net.act("home", rid, "shipped_return").status_code == 200
    # lost in the post on its way back, then it reaches the lender after all
    assert net.act("home", rid, "report_lost", reason="the courier has no trace").status_code == 200
    assert len(_notices(net, "a", "loan_lost")) == 2
    body = net.act("a", rid, "checked_in").get_json()
    assert body["status"] == "completed" and body["lost_on"] is None and body["charge"] is None
    assert [e["to"] for e in body["events"]][-5:] == ["lost", "returned", "shipped_return", "lost", "completed"]


def _copies(net, cluster_id, code):
    from sqlalchemy import select

    from union_catalog.models import Item, SourceRecord

    net.session.expire_all()
    return dict(net.session.execute(
        select(Item.barcode, Item.status).join(SourceRecord, SourceRecord.id == Item.source_record_id)
        .where(SourceRecord.cluster_id == cluster_id, SourceRecord.partner_id == net.libs[code].id)).all())


def test_the_copy_the_lender_names_is_on_loan_in_the_catalogue_until_it_is_back(net):
    from sqlalchemy import func, select

    from union_catalog.models import StatusUpdate

    (barcode,) = _copies(net, net.cluster.id, "A")
    rid = net.create().get_json()["id"]
    # a barcode the lender's copies of this record do not have: refused where it is typed, nothing changes
    r = net.act("a", rid, "loaned", barcode="A-NO-SUCH")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "barcode"
    assert net.get("a", rid).get_json()["status"] == "requested"
    r = net.act("a", rid, "loaned", barcode=barcode)
    assert r.status_code == 200 and r.get_json()["item_barcode"] == barcode
    assert _copies(net, net.cluster.id, "A") == {barcode: "on_loan"}
    # the record page and the next request see it: A's only copy is away
    record = net.call("patron2", "GET", f"/records/{net.cluster.id}").get_json()
    a_row = next(h for h in record["holdings"] if h["library"] == "A")
    assert a_row["available"] == 0
    other = net.get("home", net.create(who="patron2").get_json()["id"]).get_json()
    assert other["current_lender"] == "B"
    for action in ("received", "returned", "shipped_return"):
        assert net.act("home", rid, action).status_code == 200
    assert net.act("a", rid, "checked_in").status_code == 200
    assert _copies(net, net.cluster.id, "A") == {barcode: "available"}
    # the network's own lending does not make the library's statuses fresher
    assert net.session.scalar(select(func.count(StatusUpdate.id))) == 0


def test_a_settled_loss_lists_the_lenders_copy_as_lost(net):
    (barcode,) = _copies(net, net.cluster.id, "A")
    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "loaned", barcode=barcode).status_code == 200
    assert net.act("home", rid, "received").status_code == 200
    assert net.act("home", rid, "report_lost", reason="gone").status_code == 200
    assert _copies(net, net.cluster.id, "A") == {barcode: "on_loan"}
    assert net.act("a", rid, "settle_lost").status_code == 200
    assert _copies(net, net.cluster.id, "A") == {barcode: "lost"}


def test_lender_sets_the_due_date(net):
    rid = net.create().get_json()["id"]
    due = (clock.today() + timedelta(days=40)).isoformat()
    r = net.act("a", rid, "loaned", due_date=due)
    assert r.get_json()["due_date"] == due
    r = net.act("a", net.create(who="patron2").get_json()["id"], "loaned", due_date="soon")
    assert r.status_code == 400 and "due_date" in r.get_json()["error"]["message"]


def test_unfilled_passes_to_the_next_lender_then_the_borrower_decides(net):
    rid = net.create().get_json()["id"]
    r = net.act("a", rid, "unfilled", reason="on_loan", note="with a lecturer")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "requested" and body["current_lender"] == "B"
    rows = {row["library"]: row for row in body["rota"]}
    assert rows["A"]["outcome"] == "unfilled" and rows["A"]["outcome_detail"] == "on_loan"
    # A answered: it can still read the request, but no longer act on it
    assert net.get("a", rid).status_code == 200
    assert net.act("a", rid, "will_supply").status_code == 403
    body = net.act("b", rid, "unfilled", reason="missing").get_json()
    assert body["status"] == "unfilled" and body["current_lender"] is None
    assert net.act("b", rid, "will_supply").status_code in (403, 409)
    assert set(body["actions"]) == set()  # b sees it but cannot act
    home = net.get("home", rid).get_json()
    assert set(home["actions"]) == {"retry", "cancel", "message", "staff_note"}
    # try again later: a new round of routing
    body = net.act("home", rid, "retry").get_json()
    assert body["status"] == "requested" and body["current_lender"] == "A"
    assert {row["round"] for row in body["rota"]} == {1, 2}


def test_unfilled_reason_is_checked(net):
    rid = net.create().get_json()["id"]
    r = net.act("a", rid, "unfilled", reason="tired")
    assert r.status_code == 400 and "not_held" in r.get_json()["error"]["message"]
    assert net.get("a", rid).get_json()["status"] == "requested"


def test_a_stale_version_is_refused_with_409(net):
    rid = net.create().get_json()["id"]
    v = net.get("a", rid).get_json()["version"]
    assert net.act("a", rid, "expect_to_supply", version=v).status_code == 200
    r = net.act("a", rid, "will_supply", version=v)
    assert r.status_code == 409
    assert "reload" in r.get_json()["error"]["message"]
    assert net.get("a", rid).get_json()["status"] == "expect_to_supply"
    r = net.call("a", "POST", f"/requests/{rid}/actions", {"action": "will_supply"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "version"


def test_an_action_by_the_wrong_library_is_refused(net):
    rid = net.create().get_json()["id"]
    assert net.act("b", rid, "will_supply", version=1).status_code in (403, 404)  # B not asked yet
    assert net.act("home", rid, "will_supply").status_code == 403
    assert net.act("patron", rid, "will_supply").status_code == 403
    assert net.act("a", rid, "received").status_code == 409  # not in this state
    net.act("a", rid, "loaned")
    assert net.act("a", rid, "received").status_code == 403  # the borrower's to say
    assert net.act("coord", rid, "received").status_code == 403
    assert net.get("home", rid).get_json()["status"] == "loaned"


def test_other_libraries_and_patrons_cannot_read_it(net):
    rid = net.create().get_json()["id"]
    for who in ("x", "xpatron", "patron2", "b"):
        r = net.get(who, rid)
        assert r.status_code == 404, who
        assert net.act(who, rid, "cancel", version=1).status_code == 404
    for who in ("patron", "home", "a", "coord"):
        assert net.get(who, rid).status_code == 200, who
    assert net.call(None, "GET", f"/requests/{rid}").status_code == 401
    assert net.get("x", 999999).status_code == 404


def test_lenders_do_not_see_who_the_patron_is(net):
    rid = net.create().get_json()["id"]
    assert net.get("a", rid).get_json()["patron"] is None
    assert net.get("home", rid).get_json()["patron"]["name"] == "Siti"
    assert net.get("patron", rid).get_json()["patron"]["name"] == "Siti"


def test_an_agreement_that_does_not_cover_copies_keeps_the_lender_out(net):
    net.make.loan_agreement(net.libs["HOME"], net.libs["D"], services=("loan",))
    net.make.commit()
    rid = net.create(service="copy", citation={"pages": "1-5"}, copyright_ack=True).get_json()["id"]
    reasons = {r["library"]: r["reason"] for r in net.get("home", rid).get_json()["rota"]}
    assert reasons["D"] == "the agreement does not cover this service"
    rid = net.create(who="patron2").get_json()["id"]
    assert "D" in [r["library"] for r in net.get("home", rid).get_json()["rota"] if r["rank"]]


def test_patrons_do_not_see_the_rota(net):
    rid = net.create().get_json()["id"]
    assert net.get("patron", rid).get_json()["rota"] == []
    assert net.get("home", rid).get_json()["rota"]


def test_queues_are_per_library(net):
    rid = net.create().get_json()["id"]
    # A has one open lending request now: the next goes to B first (load)
    other = net.create(who="patron2").get_json()["id"]
    lending_a = net.call("a", "GET", "/requests?side=lending").get_json()
    assert [r["id"] for r in lending_a["requests"]] == [rid]
    assert lending_a["counts"]["lending"] == {"requested": 1}
    lending_b = net.call("b", "GET", "/requests?side=lending").get_json()
    assert [r["id"] for r in lending_b["requests"]] == [other]
    borrowing = net.call("home", "GET", "/requests?side=borrowing&status=requested").get_json()
    assert sorted(r["id"] for r in borrowing["requests"]) == sorted([rid, other])
    assert net.call("x", "GET", "/requests?side=lending").get_json()["requests"] == []
    assert net.call("x", "GET", "/requests?side=borrowing").get_json()["requests"] == []
    mine = net.call("patron2", "GET", "/requests").get_json()
    assert [r["id"] for r in mine["requests"]] == [other]
    assert net.call("home", "GET", "/requests?side=sideways").status_code == 400
    assert net.call("home", "GET", "/requests?status=misplaced").status_code == 400


def test_a_library_limits_how_many_open_requests_each_patron_has(net):
    net.libs["HOME"].max_open_requests = 2
    net.make.commit()
    first = net.create().get_json()["id"]
    assert net.create(service="copy", copyright_ack=True, citation={"article_title": "Bab 1"}).status_code == 201
    r = net.create(citation={"title": "Naskah Melayu"}, record_id=None)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "limit"
    assert r.get_json()["error"]["details"] == {"open": 2, "limit": 2}
    assert "2 open requests" in r.get_json()["error"]["message"]
    assert len(net.call("patron", "GET", "/requests").get_json()["requests"]) == 2  # nothing made
    # another patron of the library has their own count; librarians are not limited
    assert net.create(who="patron2").status_code == 201
    assert net.create(who="home", citation={"title": "Naskah Melayu"}, record_id=None).status_code == 201
    # a request closed frees a place
    assert net.act("patron", first, "cancel", reason="found it elsewhere").status_code == 200
    assert net.create(citation={"title": "Naskah Melayu"}, record_id=None).status_code == 201


def test_a_duplicate_open_request_is_refused(net):
    assert net.create().status_code == 201
    r = net.create()
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "duplicate"
    assert net.create(service="copy", citation={"article_title": "Bab 3"}, copyright_ack=True).status_code == 201
    assert net.create(who="patron2").status_code == 201


def test_the_home_library_holding_a_loanable_copy_says_so(net):
    cluster = net.make.cluster_with_holdings(
        {net.libs["HOME"]: ["available"], net.libs["A"]: ["available"]}, title="Fiqh Sunnah"
    )
    net.make.commit()
    r = net.create(record_id=cluster.id)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "held_locally"
    assert "desk" in r.get_json()["error"]["message"]
    # on loan at home: the ILL request goes ahead
    cluster2 = net.make.cluster_with_holdings(
        {net.libs["HOME"]: ["on_loan"], net.libs["A"]: ["available"]}, title="Tafsir"
    )
    net.make.commit()
    assert net.create(record_id=cluster2.id).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"service": "rent"}, "service"),
        ({"record_id": "abc"}, "record_id"),
        ({"needed_by": "tomorrow"}, "needed_by"),
        ({"needed_by": "2001-01-01"}, "needed_by"),
        ({"service": "copy", "citation": {"pages": "1-10"}}, "copyright_ack"),
        ({"service": "copy", "copyright_ack": True}, "citation.article_title"),
        ({"citation": {"colour": "red"}}, "citation.colour"),
        ({"citation": {"article_title": "x", "year": "20xx"}}, "citation.year"),
        ({"record_id": None}, "record_id"),
    ],
)
def test_bad_requests_name_the_field_and_leave_nothing(net, body, field):
    r = net.create(**body)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["field"] == field
    assert net.call("patron", "GET", "/requests").get_json()["requests"] == []


def test_unknown_record_is_404_and_body_must_be_json_object(net):
    assert net.create(record_id=987654).status_code == 404
    r = net.client.post(
        "/api/v1/requests",
        data="[1]",
        content_type="application/json",
        headers={"Authorization": "Bearer " + net.tokens["patron"]},
    )
    assert r.status_code == 400


def test_only_patrons_and_librarians_make_requests(net):
    assert net.create(who="coord").status_code == 403


def test_the_copy_path(net):
    r = net.create(
        service="copy",
        citation={"article_title": "Islam di Aceh", "pages": "12-30"},
        copyright_ack=True,
        needed_by=(clock.today() + timedelta(days=10)).isoformat(),
    )
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    assert net.act("a", rid, "will_supply").get_json()["status"] == "will_supply"
    assert net.act("a", rid, "loaned").status_code == 409
    # The copy travels as a PDF (ill/delivery.py): without one the action is refused.
    assert net.act("a", rid, "copy_completed").status_code == 400
    from tests.notify.network import pdf_bytes

    version = net.get("a", rid).get_json()["version"]
    body = net.call("a", "POST", f"/requests/{rid}/actions", data={
        "action": "copy_completed", "version": str(version),
        "file": (io.BytesIO(pdf_bytes(1)), "scan.pdf")}, content_type="multipart/form-data").get_json()
    assert body["status"] == "copy_completed"
    assert net.act("patron", rid, "cancel").status_code == 409


def test_conditions_accepted_and_rejected(net):
    rid = net.create().get_json()["id"]
    r = net.act("a", rid, "conditional", condition="library use only", cost="15000")
    assert r.get_json()["status"] == "conditional" and r.get_json()["condition"] == "library use only"
    assert net.act("patron", rid, "accept_condition").status_code == 403
    assert net.act("home", rid, "accept_condition").get_json()["status"] == "will_supply"

    rid = net.create(who="patron2").get_json()["id"]
    assert net.get("home", rid).get_json()["current_lender"] == "B"  # A is busy with the first
    net.act("b", rid, "conditional", condition="fee")
    body = net.act("home", rid, "reject_condition", note="too dear").get_json()
    assert body["status"] == "requested" and body["current_lender"] == "A"
    assert {r["library"]: r["outcome"] for r in body["rota"]}["B"] == "condition_rejected"


def test_expect_to_supply_then_will_supply(net):
    rid = net.create().get_json()["id"]
    assert net.act("a", rid, "expect_to_supply").get_json()["status"] == "expect_to_supply"
    assert net.act("a", rid, "will_supply").get_json()["status"] == "will_supply"


def _to_checked_out(net, who="patron"):
    rid = net.create(who=who).get_json()["id"]
    for actor, action in (("a", "loaned"), ("home", "received"), ("home", "checked_out")):
        assert net.act(actor, rid, action).status_code == 200
    return rid


def test_renewals_asked_answered_and_limited_by_the_agreement(net):
    rid = _to_checked_out(net)
    due = date.fromisoformat(net.get("home", rid).get_json()["due_date"])
    new_due = (due + timedelta(days=14)).isoformat()
    assert net.act("home", rid, "renew", due_date=due.isoformat()).status_code == 400
    body = net.act("home", rid, "renew", due_date=new_due).get_json()
    assert body["renewal_due"] == new_due and body["status"] == "checked_out"
    assert "renew_answer" in net.get("a", rid).get_json()["actions"]
    body = net.act("a", rid, "renew_answer", approve=True).get_json()
    assert body["due_date"] == new_due and body["renewals"] == 1 and body["renewal_due"] is None
    # the agreement with A allows one renewal
    r = net.act("home", rid, "renew", due_date=(due + timedelta(days=30)).isoformat())
    assert r.status_code == 409 and "renewals" in r.get_json()["error"]["message"]


def test_renewal_refused_keeps_the_due_date(net):
    rid = _to_checked_out(net)
    due = net.get("home", rid).get_json()["due_date"]
    net.act("home", rid, "renew", due_date=(date.fromisoformat(due) + timedelta(days=7)).isoformat())
    body = net.act("a", rid, "renew_answer", approve="false").get_json()
    assert body["due_date"] == due and body["renewal_due"] is None and body["renewals"] == 0


def test_recall_by_the_lender(net):
    rid = _to_checked_out(net)
    soon = (clock.today() + timedelta(days=3)).isoformat()
    body = net.act("a", rid, "recall", due_date=soon, note="needed for a course").get_json()
    assert body["status"] == "checked_out" and body["due_date"] == soon
    assert body["recalled_on"] == clock.today().isoformat()
    assert net.act("home", rid, "recall").status_code == 403


def test_cancel_before_shipping_and_refused_after(net):
    rid = net.create().get_json()["id"]
    body = net.act("patron", rid, "cancel", reason="found it elsewhere").get_json()
    assert body["status"] == "cancelled"
    body = net.get("home", rid).get_json()
    assert {r["library"]: r["outcome"] for r in body["rota"]}["A"] == "cancelled"
    assert net.act("patron", rid, "cancel").status_code == 409

    rid = net.create(who="patron2").get_json()["id"]
    net.act("a", rid, "will_supply")
    assert net.act("home", rid, "cancel").get_json()["status"] == "cancelled"

    rid = net.create().get_json()["id"]
    net.act("a", rid, "loaned")
    r = net.act("patron", rid, "cancel")
    assert r.status_code == 409 and "shipped" in r.get_json()["error"]["message"]


def test_citation_request_reviewed_and_routed_by_the_librarian(net):
    r = net.call(
        "patron", "POST", "/requests", {"service": "loan", "citation": {"title": "Kitab Langka", "author": "Anon"}}
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "new" and body["current_lender"] is None
    rid = body["id"]
    assert net.act("patron", rid, "route").status_code == 403
    r = net.act("home", rid, "route")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "record_id"
    assert net.act("home", rid, "route", lender="D").status_code == 409  # no agreement with D
    body = net.act("home", rid, "route", lender="B").get_json()
    assert body["status"] == "requested" and body["current_lender"] == "B"

    rid = net.call("patron2", "POST", "/requests", {"citation": {"title": "Sejarah"}}).get_json()["id"]
    body = net.act("home", rid, "route", record_id=net.cluster.id).get_json()
    assert body["record_id"] == net.cluster.id and body["current_lender"] == "A"


def test_a_library_that_reviews_requests_gets_them_as_new(net):
    net.libs["HOME"].review_requests = True
    net.make.commit()
    body = net.create().get_json()
    assert body["status"] == "new"
    body = net.act("home", body["id"], "route").get_json()
    assert body["status"] == "requested" and body["current_lender"] == "A"


def test_no_lender_at_all_leaves_the_request_unfilled(net):
    cluster = net.make.cluster_with_holdings({net.libs["C"]: ["available"], net.libs["A"]: ["on_loan"]}, title="Langka")
    net.make.commit()
    body = net.get("home", net.create(record_id=cluster.id).get_json()["id"]).get_json()
    assert body["status"] == "unfilled"
    reasons = {r["library"]: r["reason"] for r in body["rota"]}
    assert reasons["A"] == "all copies on loan"


def test_paused_lender_is_skipped(net):
    net.libs["A"].lending_paused_until = clock.today() + timedelta(days=5)
    net.libs["A"].pause_reason = "stock-taking"
    net.make.commit()
    body = net.get("home", net.create().get_json()["id"]).get_json()
    assert body["current_lender"] == "B"
    assert "stock-taking" in {r["library"]: r["reason"] for r in body["rota"]}["A"]


def test_tick_passes_over_a_lender_that_does_not_answer(net, runner):
    rid = net.create().get_json()["id"]
    answer_due = date.fromisoformat(net.get("home", rid).get_json()["answer_due"])
    result = runner.invoke(args=["tick", "--as-of", answer_due.isoformat()])
    # its last day: the lender is reminded once, and the request stays with it
    assert f"request {rid}: its lender reminded to answer today" in result.output
    assert f"request {rid}: requested -> requested" not in result.output
    reminded = net.session.scalars(select(Notice).where(Notice.kind == "answer_due")).all()
    assert {n.user_id for n in reminded} == {net.users["a"].id}
    again = runner.invoke(args=["tick", "--as-of", answer_due.isoformat()])
    assert f"request {rid}" not in again.output  # once
    later = answer_due + timedelta(days=1)
    result = runner.invoke(args=["tick", "--as-of", later.isoformat()])
    assert f"request {rid}: requested -> requested" in result.output, result.output
    body = net.get("home", rid).get_json()
    assert body["current_lender"] == "B"
    assert {r["library"]: r["outcome"] for r in body["rota"]}["A"] == "no_answer"
    assert body["events"][-1]["actor"] == "system" and body["events"][-1]["action"] == "no_answer"
    # run twice: nothing more (B's deadline is counted from the day it was asked)
    result = runner.invoke(args=["tick", "--as-of", later.isoformat()])
    assert f"request {rid}" not in result.output


def test_tick_marks_overdue_loans(net, runner):
    rid = _to_checked_out(net)
    due = date.fromisoformat(net.get("home", rid).get_json()["due_date"])
    runner.invoke(args=["tick", "--as-of", due.isoformat()])
    assert net.get("home", rid).get_json()["status"] == "checked_out"
    result = runner.invoke(args=["tick", "--as-of", (due + timedelta(days=1)).isoformat()])
    assert f"request {rid}: checked_out -> overdue" in result.output
    assert net.get("home", rid).get_json()["status"] == "overdue"
    assert net.act("home", rid, "returned").get_json()["status"] == "returned"


def test_tick_reminds_both_libraries_of_a_long_overdue_loan_every_fortnight(net, runner):
    rid = _to_checked_out(net)
    due = date.fromisoformat(net.get("home", rid).get_json()["due_date"])
    quiet = _to_checked_out(net, who="patron2")  # the same due date, then renewed: not long overdue
    net.act("home", quiet, "renew", due_date=(due + timedelta(days=60)).isoformat())
    net.act("a", quiet, "renew_answer", approve=True)

    def tick(days):
        return runner.invoke(args=["tick", "--as-of", (due + timedelta(days=days)).isoformat()]).output

    reminded = "days overdue, both libraries reminded"
    assert reminded not in tick(13)
    assert _notices(net, "home", "long_overdue") == []
    out = tick(14)
    assert f"request {rid}: 14 {reminded}" in out and f"request {quiet}: " not in out
    (home,) = _notices(net, "home", "long_overdue")
    (lender,) = _notices(net, "a", "long_overdue_lent")
    assert "14 days" in home.body and "Siti" in home.body and "report it lost" in home.body
    assert "Perpustakaan HOME" in lender.body and "recall" in lender.body
    assert "Siti" not in lender.body  # lenders are not told who the patron is
    # once per fortnight: the same day again, or the next, says nothing new
    assert reminded not in tick(14) and reminded not in tick(15)
    assert len(_notices(net, "home", "long_overdue")) == 1
    assert f"request {rid}: 28 days overdue" in tick(28)
    assert len(_notices(net, "home", "long_overdue")) == 2 and len(_notices(net, "a", "long_overdue_lent")) == 2
    # on its way back, or lost: no more reminders
    net.act("home", rid, "returned")
    net.act("home", rid, "shipped_return")
    assert reminded not in tick(42)


def test_tick_withdraws_a_request_no_lender_promised_by_the_day_needed(net, runner):
    needed = clock.today() + timedelta(days=1)  # before A's three working days to answer are up
    rid = net.create(needed_by=needed.isoformat()).get_json()["id"]
    promised = net.create(who="patron2", needed_by=needed.isoformat()).get_json()["id"]
    lender = net.get("home", promised).get_json()["current_lender"]
    assert net.act(lender.lower(), promised, "will_supply").status_code == 200
    later = net.create(needed_by=(needed + timedelta(days=30)).isoformat(), service="copy", copyright_ack=True,
                       citation={"article_title": "Bab 3"}).get_json()["id"]

    def tick(day):
        return runner.invoke(args=["tick", "--as-of", day.isoformat()]).output

    assert f"request {rid}: requested -> cancelled" not in tick(needed)
    out = tick(needed + timedelta(days=1))
    assert f"requests past the day needed: request {rid}: requested -> cancelled" in out
    assert f"request {promised}:" not in out and f"request {later}:" not in out
    body = net.get("home", rid).get_json()
    assert body["status"] == "cancelled" and body["events"][-1]["action"] == "expire"
    assert body["events"][-1]["data"] == {"needed_by": needed.isoformat()}
    assert [(row["library"], row["outcome"]) for row in body["rota"] if row["rank"]] == [("A", "cancelled"),
                                                                                         ("B", "not_asked")]
    (told,) = _notices(net, "patron", "request_expired")
    assert "withdrawn" in told.body and "ask again" in told.body
    (lender_told,) = _notices(net, "a", "request_cancelled")
    assert "which has passed" in lender_told.body
    assert net.get("home", promised).get_json()["status"] == "will_supply"
    assert net.get("home", later).get_json()["status"] == "requested"
    assert f"request {rid}:" not in tick(needed + timedelta(days=2))  # once


def test_tick_reminds_the_lender_of_a_loss_it_has_not_settled(net, runner):
    rid = _to_checked_out(net)
    assert net.act("home", rid, "report_lost", reason="left on the bus").status_code == 200
    lost_on = clock.today()

    def tick(days):
        return runner.invoke(args=["tick", "--as-of", (lost_on + timedelta(days=days)).isoformat()]).output

    assert "not settled" not in tick(13)
    assert f"request {rid}: lost 14 days ago and not settled, the lender reminded" in tick(14)
    (told,) = _notices(net, "a", "loss_unsettled")
    assert "Perpustakaan HOME" in told.body and "14 days ago" in told.body
    assert "not settled" not in tick(15)
    assert _notices(net, "home", "loss_unsettled") == []  # the lender's to settle
    assert net.act("a", rid, "settle_lost").status_code == 200
    assert "not settled" not in tick(28)


def test_after_transition_hooks_see_every_event(net):
    from ill import workflow

    seen = []
    hook = lambda session, req, event: seen.append((req.id, event.action, event.to_status))  # noqa: E731
    workflow.after_transition.append(hook)
    try:
        rid = net.create().get_json()["id"]
        net.act("a", rid, "will_supply")
    finally:
        workflow.after_transition.remove(hook)
    assert seen == [(rid, "create", "new"), (rid, "route", "requested"), (rid, "will_supply", "will_supply")]


def test_actions_by_form_post_also_work(net):
    rid = net.create().get_json()["id"]
    r = net.client.post(
        f"/api/v1/requests/{rid}/actions",
        data={"action": "will_supply", "version": "2"},
        headers={"Authorization": "Bearer " + net.tokens["a"]},
    )
    assert r.status_code == 200 and r.get_json()["status"] == "will_supply"


def test_a_lender_whose_agreement_charges_is_asked_after_one_that_lends_free(net):
    """A would be asked first (ties go by code); B lends as surely, and its
    agreement with HOME charges nothing where A's now charges per loan."""
    from decimal import Decimal

    from agreements.models import AgreementService

    for service in net.session.scalars(select(AgreementService)):
        if {p.partner_id for p in service.agreement.parties} == {net.libs["HOME"].id, net.libs["A"].id}:
            service.cost_per_loan = Decimal("15000")
    net.make.commit()
    body = net.get("home", net.create().get_json()["id"]).get_json()
    placed = [row for row in body["rota"] if row["rank"] is not None]
    assert [row["library"] for row in placed] == ["B", "A"] and body["current_lender"] == "B"
    assert "costs IDR" in placed[1]["reason"] and "15,000" in placed[1]["reason"]
