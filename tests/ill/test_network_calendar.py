"""What day it is, for the network: the calendar of its time zone
(Asia/Jakarta by default), whatever the server's own. Here the server runs
in UTC; an agreement ends on 18 October 2026, and 17:00 UTC that day is
midnight in Medan."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from ill import clock
from tests.factories import bearer

END = date(2026, 10, 18)
EVENING_OF_THE_18TH = datetime(2026, 10, 18, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 18th
NIGHT_OF_THE_19TH = datetime(2026, 10, 18, 17, 30, tzinfo=UTC)  # 00:30 WIB on the 19th


@pytest.fixture
def server_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def at(monkeypatch):
    """Set the clock to a moment (aware, UTC)."""
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(clock, "utcnow", lambda: moment)
    return set_to


@pytest.fixture
def lender(make):
    """HOME may ask A for loans under an agreement that ends on END; A holds
    one book, on the shelf."""
    home, a = make.partner("HOME", "Perpustakaan HOME"), make.partner("A", "Perpustakaan A")
    make.loan_agreement(home, a, start=date(2024, 10, 19), end=END)
    book = make.search_cluster(title="Sejarah Islam di Nusantara", holdings={"A": ["available"]})
    patron = make.user("patron", home, locale="en")
    coordinator = make.user("coordinator", locale="en")
    tokens = {"patron": make.token(patron), "coordinator": make.token(coordinator),
              "patron2": make.token(make.user("patron", home, locale="en"))}
    make.commit()
    return book, tokens


def test_today_is_the_networks_day(app, server_in_utc, at, monkeypatch):
    at(NIGHT_OF_THE_19TH)
    assert NIGHT_OF_THE_19TH.astimezone().date() == END  # on the server's calendar
    assert clock.today() == date(2026, 10, 19)
    assert clock.day_of(datetime(2026, 10, 18, 17, 0)) == date(2026, 10, 19)  # naive is UTC
    assert clock.day_of(END) == END
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "UTC")  # a network that keeps UTC
    assert clock.today() == END


def test_an_agreement_lapses_at_the_networks_midnight(client, lender, server_in_utc, at):
    book, tokens = lender
    at(EVENING_OF_THE_18TH)
    [row] = client.get("/api/v1/agreements", headers=bearer(tokens["coordinator"])).get_json()["agreements"]
    assert row["status"] == "expiring"
    holding = client.get(f"/api/v1/records/{book.id}", headers=bearer(tokens["patron"])).get_json()["holdings"][0]
    assert holding["services"]["loan"]["requestable"] is True

    at(NIGHT_OF_THE_19TH)
    [row] = client.get("/api/v1/agreements", headers=bearer(tokens["coordinator"])).get_json()["agreements"]
    assert row["status"] == "expired"
    holding = client.get(f"/api/v1/records/{book.id}", headers=bearer(tokens["patron"])).get_json()["holdings"][0]
    assert holding["services"]["loan"] == {"requestable": False,
                                           "reason": "agreement expired on October 18, 2026"}
    result = client.get("/api/v1/search", query_string={"q": "sejarah islam"},
                        headers=bearer(tokens["patron"])).get_json()["results"][0]
    assert result["holdings"][0]["requestable"] is False


def test_a_request_is_dated_on_the_networks_calendar(client, lender, session, server_in_utc, at):
    from ill.models import LoanRequest

    book, tokens = lender
    at(EVENING_OF_THE_18TH)
    resp = client.post("/api/v1/requests", json={"record_id": book.id, "service": "loan"},
                       headers=bearer(tokens["patron"]))
    assert resp.status_code == 201, resp.get_json()
    assert session.get(LoanRequest, resp.get_json()["id"]).created_on == END

    at(NIGHT_OF_THE_19TH)  # the agreement has lapsed: nobody left to ask
    resp = client.post("/api/v1/requests", json={"record_id": book.id, "service": "loan"},
                       headers=bearer(tokens["patron2"]))
    body = resp.get_json()
    assert resp.status_code == 201, body
    assert body["status"] == "unfilled" and body["current_lender"] is None
    assert session.get(LoanRequest, body["id"]).created_on == date(2026, 10, 19)
