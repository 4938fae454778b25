"""A library's register of interlibrary loans (ill/register.py): what it made
and what it was asked, one row per request with its dates, as CSV and JSON."""

from __future__ import annotations

import csv
import io

from ill import clock
from tests.factories import switch_to


def _a_full_loan(net) -> int:
    rid = net.create(note="untuk tesis").get_json()["id"]
    assert net.get("home", rid).get_json()["current_lender"] == "A"
    assert net.act("a", rid, "unfilled", reason="not_held").status_code == 200  # A cannot: B is asked
    for who, action in (("b", "will_supply"), ("b", "loaned"), ("home", "received"), ("home", "checked_out"),
                        ("home", "returned"), ("home", "shipped_return"), ("b", "checked_in")):
        assert net.act(who, rid, action).status_code == 200, (action, net.get(who, rid).get_json())
    return rid


def test_each_library_s_register_holds_what_it_made_and_what_it_was_asked(net):
    rid = _a_full_loan(net)
    other = net.create(who="patron2").get_json()["id"]
    assert net.act("patron2", other, "cancel", reason="found it").status_code == 200
    today = clock.today().isoformat()

    made = net.call("home", "GET", "/register?side=borrowing").get_json()
    assert made["library"] == "HOME" and [r["request"] for r in made["rows"]] == [rid, other]
    row = made["rows"][0]
    assert (row["patron"], row["lender"], row["status"]) == ("Siti", "B", "completed")
    assert row["made_on"] == row["shipped_on"] == row["received_on"] == row["sent_back_on"] == row["closed_on"] == today
    assert made["rows"][1]["status"] == "cancelled" and made["rows"][1]["closed_on"] == today

    asked_a = net.call("a", "GET", "/register?side=lending").get_json()["rows"]
    first = next(r for r in asked_a if r["request"] == rid)
    assert first["our_answer"] == "unfilled: not_held" and first["borrower"] == "HOME"
    assert first["shipped_on"] is None and first["closed_on"] is None  # B's part, not A's
    assert "patron" not in first  # a lender's register names the library, never the patron
    asked_b = net.call("b", "GET", "/register?side=lending").get_json()["rows"]
    (supplied,) = [r for r in asked_b if r["request"] == rid]
    assert supplied["our_answer"] == "supplied" and supplied["shipped_on"] == today
    assert supplied["closed_on"] == today

    # a period before the requests holds none of them
    empty = net.call("home", "GET", "/register?side=borrowing&since=2020-01-01&until=2020-12-31").get_json()
    assert empty["rows"] == []


def test_who_reads_which_register(net):
    _a_full_loan(net)
    assert net.call("x", "GET", "/register?library=HOME").status_code == 403  # another library's
    assert net.call("patron", "GET", "/register").status_code == 403
    assert net.call(None, "GET", "/register").status_code == 401
    r = net.call("coord", "GET", "/register")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "library"
    assert len(net.call("coord", "GET", "/register?library=HOME").get_json()["rows"]) == 1
    assert net.call("coord", "GET", "/register?library=NOPE").status_code == 404
    for bad, field in (("side=both", "side"), ("since=kemarin", "since"), ("since=2026-12-31&until=2026-01-01",
                                                                          "since")):
        r = net.call("home", "GET", f"/register?{bad}")
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, bad


def test_the_register_downloads_as_a_spreadsheet_from_the_queues_page(net):
    rid = _a_full_loan(net)
    switch_to(net.client, net.users["home"].email)
    page = net.client.get("/requests/?side=borrowing").get_data(as_text=True)
    assert 'id="register"' in page and "register.csv" in page
    r = net.client.get("/requests/register.csv?side=borrowing")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "register-home-borrowing-" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["request", "made_on", "service"]
    assert rows[1][0] == str(rid) and "Siti" in rows[1]


def test_a_long_register_is_read_in_a_few_statements(net, app):
    from sqlalchemy import event

    from ill import register
    from ill.extensions import db
    from tests.factories import bearer

    for n in range(6):  # six patrons, each their request
        patron = net.make.user("patron", net.libs["HOME"], name=f"Pemustaka {n}")
        token = net.make.token(patron)
        net.make.commit()
        r = net.client.application.test_client().post("/api/v1/requests", headers=bearer(token),
                                                       json={"record_id": net.cluster.id, "service": "loan"})
        assert r.status_code == 201, r.get_json()
    seen = []
    with app.app_context():
        engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            library = register.library_for(db.session, db.session.merge(net.users["home"]), None)
            since, until = clock.today(), clock.today()
            seen.clear()
            rows = register.rows(db.session, library, "borrowing", since, until)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(rows) == 6
    assert len(seen) <= 6, seen  # the requests, four kinds of their neighbours, the dates: not one per request
