"""Working days, for response deadlines."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta


def configured_holidays() -> frozenset[date]:
    """AGREEMENTS_HOLIDAYS: the network's public holidays and collective
    leave days (cuti bersama), as ISO dates; empty outside an app."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return frozenset()
    raw = current_app.config.get("AGREEMENTS_HOLIDAYS") or []
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").split(",") if part.strip()]
    out = set()
    for value in raw:
        out.add(value if isinstance(value, date) else date.fromisoformat(str(value).strip()))
    return frozenset(out)


def is_working_day(day: date, holidays: Container[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_days_after(day: date, n: int, holidays: Container[date] | None = None) -> date:
    """The day that is ``n`` working days (Monday to Friday, not a holiday)
    after ``day``. A request received on Friday with 3 working days to answer
    is due on Wednesday. ``n`` = 0 gives ``day`` itself. ``holidays`` None:
    the configured AGREEMENTS_HOLIDAYS."""
    if n < 0:
        raise ValueError("n must not be negative")
    if holidays is None:
        holidays = configured_holidays()
    current = day
    left = n
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current
