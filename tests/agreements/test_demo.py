from datetime import date

from agreements import demo, queries
from agreements.models import Agreement
from agreements.partners import by_code
from ill import clock


def test_demo_agreements(runner, session):
    r = runner.invoke(args=["demo", "load"])
    assert r.exit_code == 0, r.output
    assert "16 agreements from kerjasama_uinsu.csv" in r.output
    assert "1 network agreement" in r.output
    assert "closed days (public holidays, UGM's stock-taking)" in r.output
    again = runner.invoke(args=["demo", "load"])
    assert "0 agreements from kerjasama_uinsu.csv (16 there already)" in again.output
    assert "0 closed days" in again.output  # nothing closed twice
    session.expire_all()
    assert session.query(Agreement).count() == 17
    uinsu, ugm, suka, pnri = (by_code(session, c) for c in ("UINSU", "UGM", "UINSUKA", "PNRI"))
    today = clock.today()
    links = queries.links_for(session, uinsu.id, [ugm.id, suka.id, pnri.id], "loan", today)
    assert links[ugm.id].live and links[ugm.id].loan_period_days == 14
    assert links[suka.id].live
    assert not links[pnri.id].live
    # The network links its other members too.
    assert queries.agreement_between(session, ugm.id, suka.id, "copy", today).live
    # The PNRI row's dates: start computed from the end and the duration.
    pnri_ag = session.get(Agreement, links[pnri.id].agreement_id)
    assert (pnri_ag.start_date, pnri_ag.end_date) == (date(2021, 6, 24), date(2024, 6, 24))


def test_demo_table_matches_the_shared_one(shared_dir):
    assert demo.TABLE.read_bytes() == (shared_dir / "data" / "kerjasama_uinsu.csv").read_bytes()
