"""An agreement's status on a given day, from plain values.

The rules, in the order they apply:

1. ``draft``: not signed yet, whatever the dates say.
2. ``terminated``: ended early; ``terminated_on`` is the first day the
   agreement is no longer in force.
3. ``upcoming``: signed, and the day is before the start date.
4. ``unknown``: no end date is known (and none can be computed).
5. ``expired``: the day is after the end date. The end date itself is the
   last day in force: an agreement "until 30 November 2026" still routes
   requests on 30 November.
6. ``expiring``: at most ``warning_days`` days are left until the end date
   (``end - day <= warning_days``), so the day ``end - warning_days`` is the
   first day of the warning window and the end day its last.
7. ``active`` otherwise.

Only ``active`` and ``expiring`` let requests be routed.

An end date may be given alone, or computed from the start and a duration:
the end is the same calendar day ``duration`` later (a 3-year agreement from
24 June 2021 runs until 24 June 2024), clamped to the month's last day (29
February + 1 year is 28 February).
"""

from __future__ import annotations

import calendar
from datetime import date

DRAFT, UPCOMING, ACTIVE, EXPIRING = "draft", "upcoming", "active", "expiring"
EXPIRED, TERMINATED, UNKNOWN = "expired", "terminated", "unknown"
STATUSES = (DRAFT, UPCOMING, ACTIVE, EXPIRING, EXPIRED, TERMINATED, UNKNOWN)
ROUTABLE = frozenset({ACTIVE, EXPIRING})
DEFAULT_WARNING_DAYS = 90


def add_months(day: date, months: int) -> date:
    """The same calendar day ``months`` later (or earlier, when negative),
    clamped to the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def end_date(start: date | None, duration_months: int | None, end: date | None) -> date | None:
    """The effective end: the end given, else start + duration, else None."""
    if end is not None:
        return end
    if start is not None and duration_months:
        return add_months(start, duration_months)
    return None


def start_date(start: date | None, duration_months: int | None, end: date | None) -> date | None:
    """The start given, else end - duration (when only those are known), else None."""
    if start is not None:
        return start
    if end is not None and duration_months:
        return add_months(end, -duration_months)
    return None


def status_on(
    day: date,
    *,
    signed: bool = True,
    start: date | None = None,
    end: date | None = None,
    terminated_on: date | None = None,
    warning_days: int = DEFAULT_WARNING_DAYS,
) -> str:
    """The status on ``day`` (see the module's rules)."""
    if not signed:
        return DRAFT
    if terminated_on is not None and day >= terminated_on:
        return TERMINATED
    if start is not None and day < start:
        return UPCOMING
    if end is None:
        return UNKNOWN
    if day > end:
        return EXPIRED
    if (end - day).days <= warning_days:
        return EXPIRING
    return ACTIVE


def last_day(end: date | None, terminated_on: date | None) -> date | None:
    """The last day an agreement is in force: the day before it was
    terminated, else its end (None: not known)."""
    from datetime import timedelta

    days = [d for d in (end, terminated_on - timedelta(days=1) if terminated_on else None) if d is not None]
    return min(days) if days else None


def routable(status: str) -> bool:
    return status in ROUTABLE


def warning_starts(end: date, warning_days: int = DEFAULT_WARNING_DAYS) -> date:
    """The first day an agreement ending on ``end`` is ``expiring``."""
    from datetime import timedelta

    return end - timedelta(days=warning_days)
