"""How long routing takes: the pure ranking over many holders, and a whole
request (holdings, agreements, load, record, rota, first lender asked) on a
database with a history of requests.

    python bench/loans_routing.py [--libraries 60] [--history 2000] [--db URL]

Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta

from ill import clock, create_app
from ill.extensions import db


def pure(libraries: int, rounds: int = 200) -> float:
    from ill.routing import Copy, Holding, LenderFacts, Link, Wanted, plan_rota

    rng = random.Random(3)
    statuses = ["available", "on_loan", "not_for_loan", "unknown", "lost"]
    holdings = [Holding(i, f"L{i:03d}", [Copy(rng.choice(statuses)) for _ in range(rng.randint(1, 4))])
                for i in range(2, libraries + 2)]
    facts = {h.partner_id: LenderFacts(h.partner_id, h.code, link=Link(live=rng.random() < 0.8),
                                       load=rng.randint(0, 9), lent=rng.randint(0, 200),
                                       borrowed=rng.randint(0, 200), asked=20, filled=rng.randint(0, 20))
             for h in holdings}
    start = time.perf_counter()
    for _ in range(rounds):
        plan_rota(1, holdings, facts, Wanted("loan"), date(2026, 11, 23))
    return (time.perf_counter() - start) / rounds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--libraries", type=int, default=60)
    ap.add_argument("--history", type=int, default=2000, help="past requests in the database")
    ap.add_argument("--requests", type=int, default=50, help="requests made and timed")
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    print(f"plan_rota over {args.libraries} holders (plain data): {pure(args.libraries) * 1000:.3f} ms")

    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "MAIL_BACKEND": "memory"})
    rng = random.Random(7)
    with app.app_context():
        from ill import requests_service as service
        from ill import schema_extras
        from ill.models import LoanRequest, RotaEntry
        from tests.factories import Factory

        db.drop_all()
        db.create_all()
        schema_extras.create_all(db.session)
        make = Factory(db.session)
        home = make.partner("HOME")
        libs = [make.partner(f"B{i:03d}") for i in range(args.libraries)]
        for lib in libs:
            make.loan_agreement(home, lib, response_days=3)
        clusters = [make.cluster_with_holdings({lib: [rng.choice(["available", "on_loan", "unknown"])]
                                                for lib in rng.sample(libs, min(len(libs), 25))},
                                               title=f"Buku {n}") for n in range(args.requests)]
        today = clock.today()
        for _n in range(args.history):
            lender = rng.choice(libs)
            req = LoanRequest(requester_library_id=home.id, current_lender_id=lender.id, service="loan",
                              status=rng.choice(["completed", "requested", "unfilled", "checked_out"]),
                              created_on=today - timedelta(days=rng.randint(0, 400)))
            req.rota.append(RotaEntry(round=1, partner_id=lender.id, rank=1, reason_code="placed",
                                      outcome=rng.choice(["supplied", "unfilled", "no_answer"]),
                                      asked_on=req.created_on, answered_on=req.created_on + timedelta(days=2)))
            db.session.add(req)
        patrons = [make.user("patron", home) for _ in range(args.requests)]
        db.session.commit()
        start = time.perf_counter()
        for patron, cluster in zip(patrons, clusters, strict=True):
            service.create(db.session, patron, {"record_id": cluster.id, "service": "loan"})
            db.session.commit()
        per = (time.perf_counter() - start) / args.requests
        print(f"create + route + commit, 25 holders, {args.history} past requests, "
              f"{url.split(':')[0]}: {per * 1000:.1f} ms per request ({args.requests} requests)")


if __name__ == "__main__":
    main()
