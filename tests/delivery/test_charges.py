"""The statement of charges between libraries: loans at the agreement's cost
per loan on the day they shipped, copies at their pages' cost, losses as the
lender settled them."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from agreements.models import AgreementService
from ill import clock, requests_service
from ill.charges import Account, summarise
from ill.extensions import db
from tests.delivery.test_delivery import upload
from tests.factories import bearer, login
from tests.notify.network import act, build, copy_request, loan_request, pdf_bytes


def test_summarise_adds_loans_and_copies_and_lists_losses():
    accounts = summarise(
        loans=[(1, 2, Decimal("15000.00")), (1, 2, None), (3, 2, Decimal("10000.00"))],
        copies=[(1, 2, 3, Decimal("1500.00")), (1, 2, 10, None)],
        losses=[(1, 2, 7, "Rp 200.000")])
    assert accounts == [
        Account(1, 2, loans=2, loans_cost=Decimal("15000.00"), copies=2, pages=13, copies_cost=Decimal("1500.00"),
                losses=[(7, "Rp 200.000")]),
        Account(3, 2, loans=1, loans_cost=Decimal("10000.00")),
    ]
    assert accounts[0].total == Decimal("16500.00")


@pytest.fixture
def net(make):
    net = build(make)
    loan = db.session.scalar(select(AgreementService).where(AgreementService.service == "loan"))
    loan.cost_per_loan = Decimal("15000.00")
    make.commit()
    return net


def test_the_statement_of_a_period_for_both_libraries(app, make, client, net):
    first = loan_request(net)
    act(net.lender_librarian, first, "loaned")
    assert str(first.loan_cost) == "15000.00"
    req = copy_request(net)
    lender = make.token(net.lender_librarian)
    make.commit()
    assert upload(client, lender, req, pdf_bytes(3)).status_code == 200
    lost = requests_service.create(db.session, net.other_patron, {"record_id": net.cluster.id, "service": "loan"})
    db.session.commit()
    act(net.lender_librarian, lost, "loaned")
    act(net.borrower_librarian, lost, "received")
    act(net.borrower_librarian, lost, "report_lost", reason="hilang")
    act(net.lender_librarian, lost, "settle_lost", charge="Rp 200.000")

    tokens = {who: make.token(getattr(net, who)) for who in
              ("coordinator", "lender_librarian", "borrower_librarian", "outsider_librarian", "patron")}
    make.commit()
    body = client.get("/api/v1/charges", headers=bearer(tokens["coordinator"])).get_json()
    assert body["currency"] == "IDR"  # the network's, CHARGES_CURRENCY
    assert body["accounts"] == [{
        "borrower": "BORROW", "lender": "LEND", "loans": 2, "loans_cost": "30000.00", "copies": 1, "pages": 3,
        "copies_cost": "1500.00", "total": "31500.00", "losses": [{"request_id": lost.id, "charge": "Rp 200.000"}]}]
    # each library sees its own accounts, as borrower or lender; others nothing; patrons no statement
    for who in ("lender_librarian", "borrower_librarian"):
        assert client.get("/api/v1/charges", headers=bearer(tokens[who])).get_json()["accounts"] == body["accounts"]
    assert client.get("/api/v1/charges", headers=bearer(tokens["outsider_librarian"])).get_json()["accounts"] == []
    assert client.get("/api/v1/charges", headers=bearer(tokens["patron"])).status_code == 403
    # by the day things were supplied: a period before today holds nothing
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    r = client.get(f"/api/v1/charges?until={yesterday}", headers=bearer(tokens["coordinator"]))
    assert r.get_json()["accounts"] == []

    login(client, net.coordinator.email)
    page = client.get("/facts/charges", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<table id="charges">' in page and "IDR\u00a031,500" in page and "Rp 200.000" in page
    sheet = client.get("/facts/charges.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert sheet[0] == "borrower,lender,loans,loans_cost,copies,pages,copies_cost,total,currency,losses"
    assert sheet[1] == f"BORROW,LEND,2,30000.00,1,3,1500.00,31500.00,IDR,#{lost.id}: Rp 200.000"
    assert 'id="charges-link"' in client.get("/facts/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_cost_agreed_later_does_not_change_a_loan_shipped_before(app, make, client, net):
    loan = loan_request(net)
    act(net.lender_librarian, loan, "loaned")
    terms = db.session.scalar(select(AgreementService).where(AgreementService.service == "loan"))
    terms.cost_per_loan = Decimal("99000.00")
    terms.agreement.version = (terms.agreement.version or 0) + 1
    db.session.commit()
    db.session.refresh(loan)
    assert str(loan.loan_cost) == "15000.00"
    token = make.token(net.coordinator)
    make.commit()
    (account,) = client.get("/api/v1/charges", headers=bearer(token)).get_json()["accounts"]
    assert account["loans_cost"] == "15000.00"


def test_amounts_are_written_in_the_network_s_currency_as_each_language_writes_them(app):
    from flask_babel import force_locale

    from ill.ui import format_money

    with app.test_request_context():
        with force_locale("id"):
            assert format_money(Decimal("31500.00")) == "Rp\u00a031.500"
            assert format_money(Decimal("1234.50")) == "Rp\u00a01.234,5"  # cents only where there are some
        with force_locale("en"):
            assert format_money(Decimal("31500.00")) == "IDR\u00a031,500"
        app.config["CHARGES_CURRENCY"] = "MYR"
        with force_locale("id"):
            assert format_money(Decimal("12")) == "MYR\u00a012"
        assert format_money(None) == ""


def test_an_unknown_currency_is_refused_at_start(tmp_path):
    import pytest

    from ill import ConfigurationError, create_app

    with pytest.raises(ConfigurationError, match="CHARGES_CURRENCY: 'RUPIAH' is not an ISO 4217"):
        create_app({"TESTING": True, "CHARGES_CURRENCY": "RUPIAH",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
