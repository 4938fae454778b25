"""What the record page asks: may this library be asked, and if not why."""


from flask_babel import gettext as _

from ill import clock
from ill.routing import requestability


def test_requestability_per_holding_library(net):
    home, a, b, c, d = (net.libs[k].id for k in ("HOME", "A", "B", "C", "D"))
    answer = requestability(net.session, home, net.cluster.id, "loan", clock.today())
    assert answer[a][0] is True and answer[b][0] is True
    assert answer[c][0] is False and "expired" in answer[c][1]
    assert answer[d] == (False, "no cooperation agreement with the borrowing library")


def test_requestability_without_a_borrower_judges_the_copies(net):
    cluster = net.make.cluster_with_holdings({net.libs["A"]: ["on_loan"], net.libs["B"]: ["not_for_loan"]})
    loan = requestability(net.session, None, cluster.id, "loan", clock.today())
    assert loan[net.libs["A"].id] == (False, "all copies on loan")
    copy = requestability(net.session, None, cluster.id, "copy", clock.today())
    assert copy[net.libs["B"].id][0] is True


def test_requestability_for_the_home_library(net):
    cluster = net.make.cluster_with_holdings({net.libs["HOME"]: ["available"], net.libs["A"]: ["available"]})
    answer = requestability(net.session, net.libs["HOME"].id, cluster.id, "loan", clock.today())
    assert answer[net.libs["HOME"].id][0] is False and "desk" in answer[net.libs["HOME"].id][1]
    assert answer[net.libs["A"].id][0] is True


def test_a_page_of_records_is_answered_as_each_record_would_be(net):
    """requestability_many (a page of search results at once) gives every
    record the answer requestability gives it alone, for both services,
    with and without a borrowing library, and its number of queries does not
    grow with the page."""
    from sqlalchemy import event

    from ill.routing import requestability_many
    from union_catalog.search import held_from_items

    libs, today = net.libs, clock.today()
    libs["B"].lending_paused_until = today
    libs["B"].pause_reason = "stocktaking"
    # A's own rules: serials lent only as copies, and this year's editions not lent
    libs["A"].no_loan_formats = "serial"
    libs["A"].no_loan_recent_years = 1
    new = net.make.cluster_with_holdings({libs["A"]: ["available"], libs["HOME"]: ["on_loan"]},
                                         title="Buku Baru", year=today.year)
    serial = net.make.cluster_with_holdings(
        {libs["A"]: [("available", "v.1(2001)-v.5(2005)")], libs["HOME"]: ["available"]},
        title="Jurnal Iqra", fmt="serial",
    )
    shelf = net.make.cluster_with_holdings(
        {libs["HOME"]: ["on_loan"], libs["A"]: ["on_loan"], libs["C"]: ["not_for_loan"], libs["X"]: []}
    )
    nobody = net.make.cluster_with_holdings({})
    net.session.flush()
    ids = [net.cluster.id, serial.id, shelf.id, nobody.id, new.id]
    engine = net.session.get_bind()

    def queries(fn):
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            return fn(), len(seen)
        finally:
            event.remove(engine, "before_cursor_execute", listener)

    for borrower in (libs["HOME"].id, libs["X"].id, None):
        # the first asks for the borrower's agreements and how fresh each library's
        # statuses are, which are then kept (see test_queries)
        requestability_many(net.session, borrower, ids, ("loan", "copy"), today)
        page, n_page = queries(lambda b=borrower: requestability_many(net.session, b, ids, ("loan", "copy"), today))
        held = held_from_items(net.session, ids)
        held_page, n_held = queries(lambda b=borrower, h=held: requestability_many(
            net.session, b, ids, ("loan", "copy"), today, held=h))
        assert n_held <= 2
        _one, n_one = queries(lambda b=borrower: requestability_many(net.session, b, ids[:1], ("loan", "copy"), today))
        assert n_page == n_one <= 2
        for service in ("loan", "copy"):
            for cid in ids:
                alone = requestability(net.session, borrower, cid, service, today)
                assert page[service].get(cid, {}) == alone == _by_full_rota(net.session, borrower, cid, service, today)
                # as a page of search results asks, from the statuses the index keeps
                assert held_page[service].get(cid, {}) == alone

    home = requestability_many(net.session, libs["HOME"].id, ids, ("loan", "copy"), today)
    assert home["loan"][net.cluster.id][libs["B"].id][0] is False
    assert "stocktaking" in home["loan"][net.cluster.id][libs["B"].id][1]
    assert home["loan"][shelf.id][libs["A"].id] == (False, "all copies on loan")
    assert home["copy"][shelf.id][libs["C"].id][0] is False  # expired agreement
    assert home["loan"][shelf.id][libs["HOME"].id] == (False, "the borrowing library itself")
    own = home["loan"][serial.id][libs["HOME"].id]
    assert own[0] is False and "desk" in own[1]
    assert home["loan"][nobody.id] == {}
    # A's rules: a serial is lent only as a copy, and this year's editions not at all
    assert home["loan"][serial.id][libs["A"].id] == (False, "its lending rules: a serial is lent only as copies")
    assert home["copy"][serial.id][libs["A"].id][0] is True
    assert home["loan"][new.id][libs["A"].id] == (
        False, f"its lending rules: editions published since {today.year} are not lent")
    assert home["copy"][new.id][libs["A"].id][0] is True
    assert home["loan"][net.cluster.id][libs["A"].id][0] is True  # 2004, a book


def _by_full_rota(session, borrower, cluster_id, service, day):
    """The answer as a whole rota gives it, every lender's facts read (load,
    balance, record): the page's leaner reading must agree with it."""
    from ill import routing
    from union_catalog.models import Cluster

    cluster = session.get(Cluster, cluster_id)
    wanted = routing.wanted_for(service, None, cluster.format, cluster.year)
    holdings = routing.holdings_for(session, cluster_id)
    if borrower is None:
        return routing._judge_copies(holdings, wanted)
    facts = routing.lender_facts(session, borrower, [h.partner_id for h in holdings if h.partner_id != borrower],
                                 service, day)
    plan = routing.plan_rota(borrower, holdings, facts, wanted, day, size=len(holdings) or 1)
    # the rota's answer in words: placed, or left out for its reason
    out = {p.partner_id: (True, routing._availability_text(p.args["availability"])) for p in plan.rota}
    for p in plan.excluded:
        if p.code_reason == "own_library":
            own = next(h for h in holdings if h.partner_id == p.partner_id)
            out[p.partner_id] = (False, _("your own library holds it: ask at the desk")
                                 if routing.home_can_serve(own, wanted) else routing.describe("own_library", {}))
        else:
            out[p.partner_id] = (False, routing.describe(p.code_reason, p.args))
    return out


def test_copies_on_loan_in_statuses_months_old_may_be_asked_last_and_the_page_says_so(net):
    """The record page and the rota agree: a library whose copies were all on
    loan as of an export five months old may be asked (last); one whose
    statuses are fresh may not."""
    from datetime import UTC, datetime, timedelta

    from union_catalog.models import ImportRun

    cluster = net.make.cluster_with_holdings({net.libs["A"]: ["on_loan"], net.libs["B"]: ["on_loan"]}, title="Langka")
    months_ago = datetime.now(UTC) - timedelta(days=150)
    net.session.add(ImportRun(partner_id=net.libs["A"].id, filename="a.mrc", status="done", finished_at=months_ago))
    net.make.commit()
    answer = requestability(net.session, net.libs["HOME"].id, cluster.id, "loan", clock.today())
    assert answer[net.libs["A"].id][0] is True
    assert answer[net.libs["A"].id][1].startswith("all copies were on loan as of ")
    assert answer[net.libs["B"].id] == (False, "all copies on loan")
    body = net.get("home", net.create(record_id=cluster.id).get_json()["id"]).get_json()
    placed = [row for row in body["rota"] if row["rank"] is not None]
    assert [row["library"] for row in placed] == ["A"] and body["current_lender"] == "A"
    assert "they may be back" in placed[0]["reason"]


def test_a_page_reads_how_fresh_the_statuses_are_at_most_once_a_minute(net, monkeypatch):
    from datetime import UTC, datetime

    from ill import kept
    from union_catalog import search
    from union_catalog.models import ImportRun

    now = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: now[0])
    day, a = clock.today(), net.libs["A"].id
    assert search.freshness_kept(net.session, day) == {}
    net.session.add(ImportRun(partner_id=a, filename="a.mrc", status="done", finished_at=datetime.now(UTC)))
    net.make.commit()
    assert search.freshness_kept(net.session, day) == {}  # kept
    assert set(search.freshness(net.session, day)) == {a}  # the record page reads it as it is
    now[0] += search.FRESHNESS_KEPT_SECONDS
    assert set(search.freshness_kept(net.session, day)) == {a}


def test_a_patrons_search_page_reads_how_fresh_statuses_are_once_a_minute(net):
    """Whether a library whose copies are all on loan may be asked depends on
    how fresh its statuses are: a signed-in search reads that once, then has
    it kept, and asks only what it asked before (its token, the libraries'
    pauses, whether the agreements changed)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import event

    from union_catalog import search
    from union_catalog.models import ImportRun

    shelf = net.make.cluster_with_holdings({net.libs["A"]: ["on_loan"], net.libs["B"]: ["available"]},
                                           title="Sejarah Rak")
    search.reindex_clusters(net.session, [shelf.id])
    months_ago = datetime.now(UTC) - timedelta(days=150)
    net.session.add(ImportRun(partner_id=net.libs["A"].id, filename="a.mrc", status="done", finished_at=months_ago))
    net.make.commit()
    engine = net.session.get_bind()

    def statements(who):
        seen = []
        listener = lambda *a, **k: seen.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            body = net.call(who, "GET", "/search?q=sejarah").get_json()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return body, seen

    seen = {}
    for who in (None, "patron"):
        statements(who)  # the first reads what is then kept
        body, seen[who] = statements(who)
    # the patron's token, the holding libraries' pauses, whether the agreements changed
    assert len(seen["patron"]) == len(seen[None]) + 3, seen
    assert not [s for s in seen["patron"] if "import_runs" in s or "status_updates" in s]
    rows = {h["library"]: h for r in body["results"] if r["title"] == "Sejarah Rak" for h in r["holdings"]}
    # A's copy was on loan as of five months ago: A may be asked (last)
    assert rows["A"]["requestable"] is True and rows["B"]["requestable"] is True
