"""What routing asks: may A ask B for a service on a day, under which terms."""
from datetime import date
from decimal import Decimal

from agreements import queries, service

DAY = date(2026, 11, 23)


def test_no_agreement(make):
    a, b = make.partner("AAA"), make.partner("BBB")
    link = queries.agreement_between(make.session, a.id, b.id, "loan", DAY)
    assert not link.live and link.status is None and link.agreement_id is None
    assert link.reason == "no agreement"
    assert link.response_days == 3


def test_live_agreement_with_terms(make):
    a, b = make.partner("AAA"), make.partner("BBB")
    ag = make.agreement(a, b, services={"loan": {"loan_period_days": 14, "renewals_allowed": 2,
                                                 "response_days": 5, "cost_per_loan": "15000"}},
                        start_date=date(2025, 1, 1), duration_months=36)
    link = queries.agreement_between(make.session, b.id, a.id, "loan", DAY)
    assert link.live and link.status == "active" and link.agreement_id == ag.id
    assert link.end_date == date(2028, 1, 1)
    assert (link.loan_period_days, link.renewals_allowed, link.response_days) == (14, 2, 5)
    assert link.cost_per_loan == Decimal("15000.00") and link.cost_per_page is None
    assert link.reason == "agreement in force until January 1, 2028"
    copy = queries.agreement_between(make.session, a.id, b.id, "copy", DAY)
    assert not copy.live and copy.status == "active"
    assert copy.reason == "agreement does not cover copy"


def test_expiring_is_live_and_expired_is_not(make):
    a, b = make.partner("AAA"), make.partner("BBB")
    make.agreement(a, b, end_date=date(2026, 11, 30))
    assert queries.agreement_between(make.session, a.id, b.id, "copy", DAY).status == "expiring"
    assert queries.agreement_between(make.session, a.id, b.id, "copy", date(2026, 11, 30)).live
    after = queries.agreement_between(make.session, a.id, b.id, "copy", date(2026, 12, 1))
    assert not after.live and after.status == "expired"
    assert after.reason == "agreement expired on November 30, 2026"


def test_unknown_draft_upcoming_terminated_are_not_live(make):
    a, b, c, d, e = (make.partner(x) for x in ("AAA", "BBB", "CCC", "DDD", "EEE"))
    make.agreement(a, b)  # no dates
    make.agreement(a, c, state="draft", start_date=date(2026, 1, 1), duration_months=12)
    make.agreement(a, d, start_date=date(2027, 1, 1), duration_months=12)
    t = make.agreement(a, e, start_date=date(2026, 1, 1), duration_months=24)
    service.terminate(make.session, t, date(2026, 6, 1), "closed", service.Actor(label="t"))
    links = queries.links_for(make.session, a.id, [b.id, c.id, d.id, e.id], "loan", DAY)
    assert {k: (v.live, v.status) for k, v in links.items()} == {
        b.id: (False, "unknown"), c.id: (False, "draft"), d.id: (False, "upcoming"),
        e.id: (False, "terminated")}
    assert links[d.id].reason == "agreement starts on January 1, 2027"


def test_network_agreement_links_every_pair_and_not_outsiders(make):
    a, b, c, x = (make.partner(k) for k in ("AAA", "BBB", "CCC", "XXX"))
    make.agreement(a, b, c, start_date=date(2026, 1, 1), duration_months=36)
    links = queries.links_for(make.session, b.id, [a.id, c.id, x.id], "loan", DAY)
    assert links[a.id].live and links[c.id].live and not links[x.id].live
    assert links[x.id].status is None


def test_best_agreement_wins(make):
    a, b = make.partner("AAA"), make.partner("BBB")
    make.agreement(a, b, end_date=date(2024, 6, 24))  # expired
    make.agreement(a, b, services=("copy",), start_date=date(2026, 1, 1), duration_months=12)
    live = make.agreement(a, b, services=("loan",), start_date=date(2026, 1, 1),
                          duration_months=60)
    loan = queries.agreement_between(make.session, a.id, b.id, "loan", DAY)
    assert loan.live and loan.agreement_id == live.id
    copy = queries.agreement_between(make.session, a.id, b.id, "copy", DAY)
    assert copy.live and copy.agreement_id != live.id


def test_warning_days_setting_and_override(app, make):
    a, b, c = make.partner("AAA"), make.partner("BBB"), make.partner("CCC")
    make.agreement(a, b, end_date=date(2027, 1, 31))  # 69 days after DAY
    make.agreement(a, c, end_date=date(2027, 1, 31), warning_days=30)
    assert queries.agreement_between(make.session, a.id, b.id, "loan", DAY).status == "expiring"
    assert queries.agreement_between(make.session, a.id, c.id, "loan", DAY).status == "active"
    app.config["AGREEMENTS_WARNING_DAYS"] = 60
    assert queries.agreement_between(make.session, a.id, b.id, "loan", DAY).status == "active"


def test_links_are_kept_between_calls_and_follow_every_change(app, make):
    """A library's links are asked on every page of search results its
    patrons see, so they are kept between calls (``queries._links_of``):
    a second call reads no agreement, and every change to the agreements
    shows on the next call, whoever made it and in whichever session."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from agreements.models import Agreement
    from ill.extensions import db

    a, b, c = make.partner("AAA"), make.partner("BBB"), make.partner("CCC")
    ag = make.agreement(a, b, start_date=date(2025, 1, 1), end_date=date(2027, 12, 31))
    make.commit()
    actor = service.Actor(label="test")

    def link(lender, what="loan"):
        return queries.links_for(make.session, a.id, [lender.id], what, DAY)[lender.id]

    assert link(b).live and not link(c).live
    seen = []

    def statement(conn, cursor, sql, *args):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        assert link(b).live and not link(c).live
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert len(seen) == 2 and not any("agreement_parties" in sql for sql in seen)  # the state, twice

    service.update(make.session, ag, {"end_date": "2026-10-18"}, actor)
    assert not link(b).live and link(b).reason == "agreement expired on October 18, 2026"
    service.update(make.session, ag, {"end_date": "2027-12-31", "services": ["copy"]}, actor)
    assert not link(b).live and link(b, "copy").live
    make.agreement(a, c, start_date=date(2025, 1, 1), duration_months=24)
    assert link(c).live
    make.commit()

    with Session(db.engine) as other:  # another worker's session
        service.terminate(other, other.get(Agreement, ag.id), "2026-11-01", "closed", actor)
        other.commit()
    make.session.rollback()  # a new transaction, which sees the other's change
    assert link(b, "copy").status == "terminated"

    make.session.delete(make.session.get(Agreement, ag.id))
    make.session.flush()
    assert link(b, "copy").status is None and link(b, "copy").reason == "no agreement"


def test_kept_links_speak_the_language_of_the_call(app, make):
    from flask_babel import force_locale

    a, b = make.partner("AAA"), make.partner("BBB")
    make.agreement(a, b, start_date=date(2020, 1, 1), end_date=date(2026, 10, 18))
    with app.test_request_context():
        with force_locale("id"):
            assert queries.agreement_between(make.session, a.id, b.id, "loan", DAY).reason == \
                "perjanjian berakhir pada 18 Oktober 2026"
        with force_locale("en"):
            assert queries.agreement_between(make.session, a.id, b.id, "loan", DAY).reason == \
                "agreement expired on October 18, 2026"
