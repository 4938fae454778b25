from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as s

from agreements.calendar import is_working_day, working_days_after

FRIDAY = date(2026, 11, 27)


def test_friday_plus_three_is_wednesday():
    assert working_days_after(FRIDAY, 3) == date(2026, 12, 2)


def test_saturday_plus_one_is_monday():
    assert working_days_after(date(2026, 11, 28), 1) == date(2026, 11, 30)


def test_zero_is_the_day_itself():
    assert working_days_after(FRIDAY, 0) == FRIDAY


def test_holidays_are_skipped():
    christmas = date(2026, 12, 25)  # a Friday
    assert working_days_after(date(2026, 12, 24), 1, holidays={christmas}) == date(2026, 12, 28)


@given(s.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
       s.integers(min_value=1, max_value=60))
def test_counts_exactly_n_working_days(day, n):
    due = working_days_after(day, n)
    assert is_working_day(due)
    between = [day + timedelta(days=k) for k in range(1, (due - day).days + 1)]
    assert sum(1 for d in between if is_working_day(d)) == n
    assert (due - day).days <= n * 7 // 5 + 3


def test_configured_holidays(app):
    app.config["AGREEMENTS_HOLIDAYS"] = ["2026-12-25", "2026-12-24"]
    assert working_days_after(date(2026, 12, 23), 1) == date(2026, 12, 28)
    app.config["AGREEMENTS_HOLIDAYS"] = "2026-12-25"  # as ILL_AGREEMENTS_HOLIDAYS may give it
    assert working_days_after(date(2026, 12, 23), 2) == date(2026, 12, 28)
    assert working_days_after(date(2026, 12, 23), 2, holidays=()) == date(2026, 12, 25)
