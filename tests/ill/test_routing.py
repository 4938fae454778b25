"""The routing rules, on plain data: no request, no database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ill.routing import (
    CERTAIN,
    POSSIBLE,
    Copy,
    Holding,
    LenderFacts,
    Link,
    Wanted,
    balance_bucket,
    copy_judgement,
    coverage_includes,
    describe,
    home_can_serve,
    parse_coverage,
    plan_rota,
)

DAY = date(2026, 11, 23)
BORROWER = 1
LIVE = Link(live=True, status="active", end_date=date(2028, 1, 1))


def holding(pid, *statuses, coverage=""):
    return Holding(pid, f"L{pid}", [Copy(s, coverage) for s in statuses])


def facts(pid, link=LIVE, **kw):
    return LenderFacts(pid, f"L{pid}", link=link, **kw)


def plan(holdings, fact_list, wanted=Wanted("loan"), size=5):
    return plan_rota(BORROWER, holdings, {f.partner_id: f for f in fact_list}, wanted, DAY, size=size)


def excluded(p):
    return {e.partner_id: e.code_reason for e in p.excluded}


def test_only_holders_with_a_live_agreement_are_asked():
    expired = Link(live=False, status="expired", end_date=date(2026, 10, 18))
    p = plan(
        [holding(2, "available"), holding(3, "available"), holding(4, "available")],
        [facts(2), facts(3, link=expired), facts(4, link=None)],
    )
    assert p.lenders == [2]
    assert excluded(p) == {3: "agreement", 4: "no_agreement"}
    reason = next(e for e in p.excluded if e.partner_id == 3)
    assert "18" in describe(reason.code_reason, reason.args) and "2026" in describe(reason.code_reason, reason.args)


def test_agreement_not_covering_the_service_excludes():
    not_copy = Link(live=False, status="active", reason="agreement does not cover copy")
    p = plan([holding(2, "available")], [facts(2, link=not_copy)], Wanted("copy"))
    assert p.lenders == []
    assert describe(p.excluded[0].code_reason, p.excluded[0].args) == "the agreement does not cover this service"


def test_agreement_without_any_party_link_status_none_is_no_agreement():
    p = plan([holding(2, "available")], [facts(2, link=Link(live=False, status=None))])
    assert excluded(p) == {2: "no_agreement"}


def test_the_borrowing_library_is_never_a_lender():
    p = plan([holding(BORROWER, "available"), holding(2, "available")], [facts(2)])
    assert p.lenders == [2]
    assert excluded(p) == {BORROWER: "own_library"}


def test_paused_lending_excludes_until_the_day_after():
    paused = facts(2, paused_until=DAY, pause_reason="stocktaking")
    p = plan([holding(2, "available")], [paused])
    assert excluded(p) == {2: "paused"}
    assert "stocktaking" in describe("paused", p.excluded[0].args)
    p = plan_rota(BORROWER, [holding(2, "available")], {2: paused}, Wanted("loan"), date(2026, 11, 24))
    # lender_facts only sets paused_until while paused; the rule itself compares the day too
    assert p.lenders == [2]


def test_a_library_closed_by_its_own_closed_days_is_passed_over_until_it_opens():
    closed = facts(2, closed_until=DAY, closed_reason="Libur semester")
    p = plan([holding(2, "available"), holding(3, "available")], [closed, facts(3)])
    assert excluded(p) == {2: "closed"} and p.lenders == [3]
    assert describe("closed", p.excluded[0].args).startswith("closed until")
    assert "Libur semester" in describe("closed", p.excluded[0].args)
    p = plan_rota(BORROWER, [holding(2, "available")], {2: closed}, Wanted("loan"), DAY + timedelta(days=1))
    assert p.lenders == [2]


@pytest.mark.parametrize(
    "statuses, code",
    [
        (("on_loan", "on_loan"), "all_on_loan"),
        (("not_for_loan",), "reference_only"),
        (("lost", "damaged"), "lost_or_damaged"),
        (("on_loan", "not_for_loan", "lost"), "none_lendable"),
    ],
)
def test_loan_needs_a_loanable_copy(statuses, code):
    p = plan([holding(2, *statuses)], [facts(2)])
    assert p.lenders == []
    assert excluded(p) == {2: code}
    assert describe(code, p.excluded[0].args)


def test_all_on_loan_reads_as_such():
    assert describe("all_on_loan", {}) == "all copies on loan"


def test_unknown_status_may_lend_but_ranks_after_a_known_available_copy():
    p = plan([holding(2, "unknown"), holding(3, "on_loan", "available")], [facts(2), facts(3, load=9)])
    assert p.lenders == [3, 2]
    assert copy_judgement([Copy("unknown")], Wanted("loan"))[0] == POSSIBLE
    assert copy_judgement([Copy("available")], Wanted("loan"))[0] == CERTAIN


def test_a_copy_on_the_shelf_months_ago_is_asked_after_fresh_ones():
    """A library that has sent nothing for months may say 'available' of a
    copy long lent: it is asked after the libraries whose statuses are fresh,
    and the reason says as of when."""
    stale = date(2026, 3, 5)
    p = plan([holding(2, "available"), holding(3, "available"), holding(5, "on_loan")],
             [facts(2, load=0, stale_since=stale), facts(3, load=4), facts(5, stale_since=stale)])
    assert p.lenders[:2] == [3, 2]
    placed = {pl.partner_id: pl for pl in p.rota}
    assert placed[2].args["availability"] == "available_stale" and placed[2].args["as_of"] == "2026-03-05"
    assert describe("placed", placed[2].args).startswith(
        "a copy was on the shelf as of March 5, 2026, and the library has sent nothing since")


def test_copies_on_loan_months_ago_may_be_back_so_that_library_is_asked_last():
    """A loan runs for weeks: 'all copies on loan' in statuses of months ago
    no longer keeps a library out, it is asked after every other (even one
    whose copy's status is unknown); fresh, it still keeps it out."""
    stale = date(2026, 3, 5)
    p = plan([holding(2, "on_loan", "on_loan"), holding(3, "unknown"), holding(4, "on_loan"),
              holding(5, "available")],
             [facts(2, stale_since=stale), facts(3, load=9), facts(4), facts(5, stale_since=stale)])
    assert p.lenders == [5, 3, 2]
    assert excluded(p) == {4: "all_on_loan"}
    placed = {pl.partner_id: pl for pl in p.rota}
    assert placed[2].args["availability"] == "on_loan_stale" and placed[2].args["as_of"] == "2026-03-05"
    assert describe("placed", placed[2].args).startswith(
        "all copies were on loan as of March 5, 2026; they may be back, and the library has sent nothing since")
    # what stays so however old the statuses: reference only, lost or damaged
    p = plan([holding(2, "not_for_loan"), holding(3, "lost")],
             [facts(2, stale_since=stale), facts(3, stale_since=stale)])
    assert p.lenders == [] and excluded(p) == {2: "reference_only", 3: "lost_or_damaged"}


def test_reference_only_copies_serve_a_copy_request():
    p = plan([holding(2, "not_for_loan")], [facts(2)], Wanted("copy"))
    assert p.lenders == [2]
    p = plan([holding(2, "lost")], [facts(2)], Wanted("copy"))
    assert p.lenders == []


def test_serial_coverage_must_include_the_volume_or_year_asked():
    wanted = Wanted("copy", volume=12, year=2012, serial=True)
    p = plan(
        [
            holding(2, "available", coverage="v.1(2001)-v.10(2010)"),
            holding(3, "available", coverage="2005-2015"),
            holding(4, "available"),
        ],
        [facts(2), facts(3), facts(4)],
        wanted,
    )
    assert excluded(p) == {2: "coverage"}
    # 4 says nothing of its coverage: asked, but after the library whose coverage includes it
    assert p.lenders == [3, 4]
    assert "v.1(2001)-v.10(2010)" in describe("coverage", p.excluded[0].args)


@pytest.mark.parametrize(
    "text, volume, year, expected",
    [
        ("v.1(2001)-v.10(2010)", 5, None, True),
        ("v.1(2001)-v.10(2010)", 11, None, False),
        ("v.1(2001)-v.10(2010)", None, 2010, True),
        ("v.1(2001)-v.10(2010)", None, 2011, False),
        ("2005-2015", None, 2004, False),
        ("2005-2015", None, 2015, True),
        ("v.3(1999)-", 40, None, True),
        ("v.3(1999)-", None, 1998, False),
        ("1995-2000; 2003-2010", None, 2002, False),
        ("1995-2000; 2003-2010", None, 2004, True),
        ("Vol. 1 (2001) - Vol. 10 (2010)", 10, None, True),
        ("v.5(2004)", 5, None, True),
        ("v.5(2004)", 6, None, False),
        ("2005-2015", 3, None, None),  # years only, a volume asked: cannot tell
        ("", 3, None, None),
    ],
)
def test_coverage_statements(text, volume, year, expected):
    assert coverage_includes(text, volume, year) is expected


def test_parse_coverage_open_range():
    assert parse_coverage("v.3(1999)-") == [((3, 1999), (None, None), True)]


def test_ranking_availability_then_load_then_balance_then_record_then_code():
    hs = [holding(i, "available") for i in range(2, 8)]
    fs = [
        facts(2, load=3),
        facts(3, load=1),
        facts(4, load=1, lent=100, borrowed=5),  # lends far more than it borrows: later
        facts(5, load=1, asked=10, filled=9, turnaround_days=2),  # good record: earlier
        facts(6, load=1, asked=10, filled=2, turnaround_days=9),  # poor record: later
        facts(7, load=0),
    ]
    p = plan(hs, fs, size=6)
    assert p.lenders == [7, 5, 3, 6, 4, 2]


def test_ties_are_broken_by_code_so_the_same_inputs_give_the_same_rota():
    hs = [holding(9, "available"), holding(3, "available"), holding(5, "available")]
    fs = [facts(9), facts(3), facts(5)]
    first = plan(hs, fs).lenders
    assert first == [3, 5, 9]
    assert plan(list(reversed(hs)), list(reversed(fs))).lenders == first


def test_the_rota_holds_five_and_explains_the_rest():
    hs = [holding(i, "available") for i in range(2, 10)]
    p = plan(hs, [facts(i, load=i) for i in range(2, 10)])
    assert [e.rank for e in p.rota] == [1, 2, 3, 4, 5]
    assert p.lenders == [2, 3, 4, 5, 6]
    assert excluded(p) == {7: "rota_full", 8: "rota_full", 9: "rota_full"}


def test_every_place_has_a_reason():
    p = plan([holding(2, "available")], [facts(2, load=2, lent=4, borrowed=3, asked=4, filled=3, turnaround_days=2.5)])
    text = describe(p.rota[0].code_reason, p.rota[0].args)
    assert "2 open lending requests" in text and "75%" in text and "lent 4" in text


def test_balance_bucket():
    assert balance_bucket(0, 0) == 0
    assert balance_bucket(10, 5) == 0
    assert balance_bucket(100, 5) == 9


def test_home_can_serve():
    assert home_can_serve(holding(1, "available"), Wanted("loan"))
    assert not home_can_serve(holding(1, "on_loan"), Wanted("loan"))
    assert not home_can_serve(holding(1, "unknown"), Wanted("loan"))
    assert home_can_serve(holding(1, "not_for_loan"), Wanted("copy"))
    assert not home_can_serve(None, Wanted("loan"))


def test_copies_are_judged_by_the_statuses_they_have():
    """requestability_many judges a library once per page for the same set of
    statuses: copy_judgement must not depend on how many copies have each
    status, nor on their order, when no part of a serial is asked for."""
    from hypothesis import given
    from hypothesis import strategies as st

    from ill.routing import Copy, Wanted, copy_judgement

    statuses = st.sampled_from(["available", "on_loan", "not_for_loan", "lost", "damaged", "unknown", "odd"])

    @given(st.lists(statuses, max_size=6), st.lists(statuses, max_size=6),
           st.sampled_from(["loan", "copy"]), st.booleans())
    def check(some, more, service, serial):
        wanted = Wanted(service=service, serial=serial)
        copies = [Copy(s, "v.1 (2001)") for s in some]
        same_set = [Copy(s, "") for s in reversed(some + [s for s in more if s in some])]
        assert copy_judgement(copies, wanted) == copy_judgement(same_set, wanted)

    check()


# --- a lender's own rules -------------------------------------------------------


@pytest.mark.parametrize("text, pages", [
    ("12-30", 19), ("12–30", 19), ("pp. 12-30", 19), ("hlm. 5", 1), ("12-30, 45", 20),
    ("1123-35", 13), ("120-5", 6), ("99-101", 3), ("5-10; 20-21", 8), ("12-30 dan 40-41", 21),
    ("", None), (None, None), ("xii-xx", None), ("e0123456", None), ("30-12", None), ("bab 3", None),
])
def test_pages_asked_counts_what_a_citation_gives(text, pages):
    from ill.routing import pages_asked

    assert pages_asked(text) == pages


def ruled(code_reason_args):
    return {e.partner_id: (e.code_reason, e.args) for e in code_reason_args.excluded}


def test_a_form_a_library_lends_only_as_copies_passes_it_over_for_a_loan_not_for_a_copy():
    from ill.routing import LendingRules

    rules = LendingRules.of("serial,thesis")
    holders = [holding(2, "available"), holding(3, "available")]
    lenders = [facts(2, rules=rules), facts(3)]
    loan = plan(holders, lenders, Wanted("loan", format="thesis"))
    assert loan.lenders == [3]
    assert ruled(loan)[2] == ("rule_format", {"format": "thesis"})
    assert "thesis" in describe("rule_format", {"format": "thesis"})
    assert plan(holders, lenders, Wanted("copy", format="thesis")).lenders == [2, 3]
    assert plan(holders, lenders, Wanted("loan", format="book")).lenders == [2, 3]


def test_recent_editions_stay_home_by_the_year_this_one_counting():
    from ill.routing import LendingRules

    holders = [holding(2, "available")]
    two_years = [facts(2, rules=LendingRules.of("", no_loan_recent_years=2))]
    # DAY is in 2026: 2025 and 2026 are the last two years
    assert plan(holders, two_years, Wanted("loan", published=2025)).lenders == []
    p = plan(holders, two_years, Wanted("loan", published=2026))
    assert ruled(p)[2] == ("rule_recent", {"since": 2025, "published": 2026})
    assert "2025" in describe(*ruled(p)[2])
    assert plan(holders, two_years, Wanted("loan", published=2024)).lenders == [2]
    assert plan(holders, two_years, Wanted("loan", published=None)).lenders == [2]  # no year: no rule
    assert plan(holders, two_years, Wanted("copy", published=2026)).lenders == [2]  # copies are not loans


def test_a_copy_of_more_pages_than_a_library_copies_passes_it_over_when_they_can_be_counted():
    from ill.routing import LendingRules, wanted_for

    holders = [holding(2, "available")]
    fifty = [facts(2, rules=LendingRules.of("", copy_max_pages=50))]
    assert plan(holders, fifty, wanted_for("copy", {"pages": "1-50"}, "book")).lenders == [2]
    p = plan(holders, fifty, wanted_for("copy", {"pages": "1-51"}, "book"))
    assert ruled(p)[2] == ("rule_pages", {"max": 50, "asked": 51})
    assert "50" in describe(*ruled(p)[2]) and "51" in describe(*ruled(p)[2])
    # pages it cannot count, or none given: the library is asked, and judges
    assert plan(holders, fifty, wanted_for("copy", {"pages": "xii-xl"}, "book")).lenders == [2]
    assert plan(holders, fifty, wanted_for("copy", {"article_title": "A"}, "book")).lenders == [2]
    assert plan(holders, fifty, wanted_for("loan", {"pages": "1-500"}, "book")).lenders == [2]


def test_a_library_with_as_many_requests_waiting_as_it_takes_is_passed_over():
    from ill.routing import LendingRules

    holders = [holding(2, "available"), holding(3, "available")]
    capped = LendingRules.of("", max_requests_waiting=3)
    assert plan(holders, [facts(2, rules=capped, load=2), facts(3, load=9)]).lenders == [2, 3]
    p = plan(holders, [facts(2, rules=capped, load=3), facts(3, load=9)])
    assert p.lenders == [3]
    assert ruled(p)[2] == ("rule_capacity", {"max": 3})


def test_rules_come_after_the_agreement_and_before_the_copies():
    from ill.routing import LendingRules

    thesis = Wanted("loan", format="thesis")
    rules = LendingRules.of("thesis")
    # no agreement says more than the rule
    assert ruled(plan([holding(2, "available")], [facts(2, link=None, rules=rules)], thesis))[2][0] == "no_agreement"
    # the rule says more than copies on loan
    assert ruled(plan([holding(2, "on_loan")], [facts(2, rules=rules)], thesis))[2][0] == "rule_format"


def test_the_rules_as_a_partner_stores_them():
    from ill.routing import LendingRules

    assert not LendingRules.of("")
    assert not LendingRules.of(None)
    rules = LendingRules.of("serial,thesis", 1, None, 10)
    assert rules and rules.no_loan_formats == {"serial", "thesis"} and rules.max_requests_waiting == 10
    # counted over many requests, each rule says what it is without its numbers
    for code in ("rule_format", "rule_recent", "rule_pages", "rule_capacity"):
        assert describe(code, {}) not in ("", code)


def test_a_library_keeping_a_lenders_book_too_long_gets_no_new_loan_from_it_but_copies():
    from ill.routing import LendingRules

    holders = [holding(2, "available"), holding(3, "available")]
    strict = LendingRules.of("", late_borrower_days=30)
    p = plan(holders, [facts(2, rules=strict, late_loans=1), facts(3)])
    assert p.lenders == [3] and ruled(p)[2] == ("rule_late_borrower", {"days": 30})
    assert "30 days or more past its due date" in describe(*ruled(p)[2])
    assert plan(holders, [facts(2, rules=strict, late_loans=1), facts(3)], Wanted("copy")).lenders == [2, 3]
    assert plan(holders, [facts(2, rules=strict, late_loans=0), facts(3)]).lenders == [2, 3]


@given(st.lists(st.tuples(st.integers(1, 99999), st.integers(0, 500)), min_size=1, max_size=4),
       st.sampled_from([", ", "; ", " dan ", ","]), st.sampled_from(["", "pp. ", "hlm. ", "p. "]),
       st.sampled_from(["-", "–", " - "]))
def test_pages_asked_adds_up_every_range_however_it_is_written(ranges, joiner, prefix, dash):
    from ill.routing import pages_asked

    text = prefix + joiner.join(f"{start}{dash}{start + extra}" if extra else str(start) for start, extra in ranges)
    assert pages_asked(text) == sum(extra + 1 for _start, extra in ranges)


def test_among_libraries_as_likely_to_supply_the_one_whose_agreement_charges_least_is_asked_first():
    from decimal import Decimal

    from ill.routing import wanted_for

    paid = Link(live=True, status="active", cost_per_loan=Decimal("15000"), cost_per_page=Decimal("500"))
    cheap = Link(live=True, status="active", cost_per_loan=Decimal("5000"), cost_per_page=Decimal("1000"))
    holders = [holding(2, "available"), holding(3, "available"), holding(4, "available"), holding(5, "unknown")]
    lenders = [facts(2, link=paid), facts(3, link=cheap), facts(4, load=9), facts(5)]
    # a loan: free first (4, busier, before a paid one), then the cheaper; a copy that is only likely comes last
    loan = plan(holders, lenders)
    assert loan.lenders == [4, 3, 2, 5]
    placed = {p.partner_id: p for p in loan.rota}
    assert placed[3].args["cost"] == "5000" and placed[4].args["cost"] is None
    assert "5000" in describe("placed", placed[3].args) or "5.000" in describe("placed", placed[3].args)
    # a copy of 10 pages: 500 a page is cheaper than 1000
    assert plan(holders, lenders, wanted_for("copy", {"pages": "1-10"}, "book")).lenders == [4, 2, 3, 5]
    assert next(p for p in plan(holders, lenders, wanted_for("copy", {"pages": "1-10"}, "book")).rota
                if p.partner_id == 2).args["cost"] == "5000"
