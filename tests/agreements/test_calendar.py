from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as s

from agreements.calendar import Calendar, is_working_day, working_days_after

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


# --- a library's calendar: closed dates and days of the week ------------------

SUNDAY, MONDAY = date(2026, 11, 29), date(2026, 11, 30)


def test_a_deadline_on_a_closed_day_moves_to_the_next_open_day():
    cal = Calendar(closed_dates=frozenset({MONDAY}), closed_weekdays=frozenset({7}))
    assert cal.open_on_or_after(FRIDAY) == FRIDAY  # open: stays
    assert cal.open_on_or_after(SUNDAY) == date(2026, 12, 1)  # Sunday closed weekly, Monday a closed date
    assert Calendar().open_on_or_after(SUNDAY) == SUNDAY  # no closing at all: open every day


def test_working_days_skip_the_library_s_closed_dates_and_weekdays():
    cal = Calendar(closed_dates=frozenset({MONDAY}), closed_weekdays=frozenset({2}))  # closed Tuesdays
    # from Friday: Monday closed, Tuesday closed weekly -> Wed, Thu, Fri
    assert cal.working_days_after(FRIDAY, 3) == date(2026, 12, 4)


def test_a_library_closed_longer_than_the_calendar_reaches_keeps_the_day():
    every_day = frozenset(date(2027, 1, 1) + timedelta(days=k) for k in range(500))
    assert Calendar(closed_dates=every_day).open_on_or_after(date(2027, 1, 1)) == date(2027, 1, 1)


@given(s.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
       s.sets(s.integers(min_value=1, max_value=7), max_size=6),
       s.sets(s.integers(min_value=0, max_value=30), max_size=20))
def test_the_next_open_day_is_open_and_none_comes_before_it(day, weekly, offsets):
    cal = Calendar(closed_dates=frozenset(day + timedelta(days=k) for k in offsets),
                   closed_weekdays=frozenset(weekly))
    moved = cal.open_on_or_after(day)
    assert moved >= day and cal.is_open(moved)
    assert not any(cal.is_open(day + timedelta(days=k)) for k in range((moved - day).days))
