"""The status rules, over plain values (no app, no database)."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as s

from agreements import status as st
from agreements.status import add_months, end_date, start_date, status_on

END = date(2026, 11, 30)
START = date(2021, 11, 30)


@pytest.mark.parametrize(("day", "expected"), [
    (START - timedelta(days=1), "upcoming"),
    (START, "active"),
    (END - timedelta(days=91), "active"),
    (END - timedelta(days=90), "expiring"),  # first day of the warning window
    (END - timedelta(days=1), "expiring"),
    (END, "expiring"),  # the end day is still in force
    (END + timedelta(days=1), "expired"),
])
def test_boundaries(day, expected):
    assert status_on(day, start=START, end=END) == expected


def test_draft_wins_over_dates():
    assert status_on(date(2025, 1, 1), signed=False, start=START, end=END) == "draft"
    assert status_on(date(2030, 1, 1), signed=False) == "draft"


def test_terminated_from_its_day_on():
    t = date(2024, 5, 1)
    assert status_on(t - timedelta(days=1), start=START, end=END, terminated_on=t) == "active"
    assert status_on(t, start=START, end=END, terminated_on=t) == "terminated"
    assert status_on(END + timedelta(days=9), start=START, end=END, terminated_on=t) == "terminated"


def test_unknown_without_end():
    assert status_on(date(2026, 11, 23)) == "unknown"
    assert status_on(date(2026, 11, 23), start=START) == "unknown"
    assert status_on(date(2020, 1, 1), start=START) == "upcoming"


def test_end_alone():
    assert status_on(date(2026, 11, 23), end=date(2027, 7, 13)) == "active"
    assert status_on(date(2026, 11, 23), end=date(2026, 10, 18)) == "expired"


def test_warning_window_override():
    assert status_on(END - timedelta(days=100), end=END, warning_days=120) == "expiring"
    assert status_on(END - timedelta(days=1), end=END, warning_days=0) == "active"
    assert status_on(END, end=END, warning_days=0) == "expiring"


def test_routable_only_active_and_expiring():
    assert {x for x in st.STATUSES if st.routable(x)} == {"active", "expiring"}


def test_dates_from_duration():
    # PNRI: 3 years, ending 24 June 2024, started 24 June 2021.
    assert start_date(None, 36, date(2024, 6, 24)) == date(2021, 6, 24)
    assert end_date(date(2021, 6, 24), 36, None) == date(2024, 6, 24)
    assert end_date(None, 36, None) is None
    assert end_date(date(2021, 6, 24), None, None) is None
    assert end_date(None, None, date(2024, 1, 1)) == date(2024, 1, 1)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


days = s.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(days, days, days, s.integers(min_value=0, max_value=400))
def test_exactly_one_status_and_routable_means_in_force(day, a, b, warn):
    start, end = min(a, b), max(a, b)
    result = status_on(day, start=start, end=end, warning_days=warn)
    assert result in st.STATUSES
    assert st.routable(result) == (start <= day <= end)
    if st.routable(result):
        assert (result == "expiring") == ((end - day).days <= warn)


@given(days, days, s.integers(min_value=0, max_value=400))
def test_status_moves_forward_only(a, end, warn):
    order = ["upcoming", "active", "expiring", "expired"]
    start = min(a, end)
    seen = [status_on(start + timedelta(days=k), start=start, end=end, warning_days=warn)
            for k in range(-2, (end - start).days + 3, max(1, (end - start).days // 50))]
    ranks = [order.index(x) for x in seen]
    assert ranks == sorted(ranks)


@given(days, s.integers(min_value=1, max_value=240))
def test_duration_round_trip_when_day_fits(day, months):
    day = day.replace(day=min(day.day, 28))
    end = add_months(day, months)
    assert add_months(end, -months) == day
    assert start_date(None, months, end) == day


def test_the_last_day_in_force_is_the_end_or_the_day_before_termination():
    from agreements.status import last_day

    assert last_day(date(2027, 1, 31), None) == date(2027, 1, 31)
    assert last_day(date(2027, 1, 31), date(2026, 12, 1)) == date(2026, 11, 30)
    assert last_day(None, date(2026, 12, 1)) == date(2026, 11, 30)
    assert last_day(None, None) is None
