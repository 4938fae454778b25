"""Odd JSON sent to the calendar, accounts, desk and parcel endpoints
(numbers for text, lists, objects, nulls, very long text) is answered, never
with a 500."""

from __future__ import annotations

import pytest

ODD = [5, 1.5, True, None, [], ["x"], {}, {"a": 1}, "", " ", "x" * 3000]


@pytest.mark.parametrize("value", ODD, ids=[repr(v)[:20] for v in ODD])
def test_odd_values_are_refused_cleanly(net, value):
    siti = net.users["patron"].id
    rid = net.create().get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"].lower()
    calls = [
        ("coord", "POST", "/calendar", {"day": value}),
        ("coord", "POST", "/calendar", {"day": "2027-01-04", "until": value}),
        ("coord", "POST", "/calendar", {"day": "2027-01-04", "reason": value, "library": value}),
        ("coord", "POST", "/calendar/holidays", {"year": value}),
        ("home", "PATCH", "/partners/HOME", {"closed_weekdays": value}),
        ("home", "POST", "/users", {"email": value}),
        ("home", "POST", "/users", {"email": "odd@home.ac.id", "name": value, "card_number": value,
                                    "locale": value, "role": value}),
        ("home", "PATCH", f"/users/{siti}", {"card_number": value}),
        ("home", "PATCH", f"/users/{siti}", {"name": value, "locale": value, "active": value}),
        ("home", "POST", "/requests", {"record_id": net.cluster.id, "patron": value}),
        ("home", "GET", f"/unmet?since={value}&library={value}", None),
        ("home", "GET", f"/hold-shelf?q={value}", None),
    ]
    for who, method, path, body in calls:
        r = net.call(who, method, path, body)
        assert r.status_code < 500, (method, path, body, r.status_code)
    r = net.act(lender, rid, "loaned", courier=value, tracking=value)
    assert r.status_code < 500
