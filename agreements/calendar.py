"""Working days, for response deadlines."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta


def is_working_day(day: date, holidays: Container[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_days_after(day: date, n: int, holidays: Container[date] = ()) -> date:
    """The day that is ``n`` working days (Monday to Friday, not in
    ``holidays``) after ``day``. A request received on Friday with 3 working
    days to answer is due on Wednesday. ``n`` = 0 gives ``day`` itself."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = day
    left = n
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current
