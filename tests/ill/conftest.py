"""A small network for the loan workflow's tests: a borrowing library HOME,
lenders A and B under live agreements, C whose agreement expired, D with no
agreement, and X, a library with no part in the requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from ill import clock
from tests.factories import bearer


@dataclass
class Net:
    client: object
    make: object
    session: object
    libs: dict
    users: dict
    tokens: dict
    cluster: object

    def call(self, who: str, method: str, path: str, json=None, **kw):
        headers = bearer(self.tokens[who]) if who else {}
        # A client of its own: the page tests' signed-in session must not speak for the token.
        if not hasattr(self, "_api"):
            self._api = self.client.application.test_client()
        return self._api.open("/api/v1" + path, method=method, json=json, headers=headers, **kw)

    def create(self, who="patron", **body):
        body.setdefault("record_id", self.cluster.id)
        body.setdefault("service", "loan")
        return self.call(who, "POST", "/requests", body)

    def get(self, who, rid):
        return self.call(who, "GET", f"/requests/{rid}")

    def act(self, who, rid, action, version=None, **params):
        if version is None:
            version = self.get(who, rid).get_json()["version"]
        return self.call(who, "POST", f"/requests/{rid}/actions", {"action": action, "version": version, **params})


@pytest.fixture
def net(client, make, session):
    today = clock.today()
    libs = {code: make.partner(code, f"Perpustakaan {code}") for code in ("HOME", "A", "B", "C", "D", "X")}
    make.loan_agreement(libs["HOME"], libs["A"], response_days=3, loan_period_days=21, renewals_allowed=1)
    make.loan_agreement(libs["HOME"], libs["B"], response_days=2, loan_period_days=14, renewals_allowed=0)
    make.loan_agreement(libs["HOME"], libs["C"], start=today - timedelta(days=800), end=today - timedelta(days=30))
    make.loan_agreement(libs["X"], libs["A"])
    cluster = make.cluster_with_holdings(
        {
            libs["A"]: ["available"],
            libs["B"]: ["available", "on_loan"],
            libs["C"]: ["available"],
            libs["D"]: ["available"],
        }
    )
    users = {
        "patron": make.user("patron", libs["HOME"], name="Siti", locale="en"),
        "patron2": make.user("patron", libs["HOME"], name="Budi", locale="en"),
        "home": make.user("librarian", libs["HOME"], locale="en"),
        "a": make.user("librarian", libs["A"], locale="en"),
        "b": make.user("librarian", libs["B"], locale="en"),
        "x": make.user("librarian", libs["X"], locale="en"),
        "xpatron": make.user("patron", libs["X"], locale="en"),
        "coord": make.user("coordinator", locale="en"),
    }
    tokens = {k: make.token(u) for k, u in users.items()}
    make.commit()
    return Net(client, make, session, libs, users, tokens, cluster)
