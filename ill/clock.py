"""What time and what day it is, for the network.

Moments are kept in UTC. Days (a request's date, an agreement's end, a due
date, "as of today") are the network's: the calendar of its time zone
(``BABEL_DEFAULT_TIMEZONE``, Asia/Jakarta by default), never the server's.
A server that runs in UTC would otherwise still call 18 October "today"
until 07:00 on the 19th in Medan, keep an agreement that ended on the 18th
routable for those hours, and date a request made at 06:00 WIB the day
before. Every "today" of the product comes from ``today()``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from .config import Defaults


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the one clock the tests can set)."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored moment, aware: SQLite hands back naive datetimes, and every
    stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def network_zone() -> ZoneInfo:
    """The network's time zone: the application's setting, or the default
    one outside an application. (ZoneInfo keeps one object per name.)"""
    if has_app_context():
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return ZoneInfo(Defaults.BABEL_DEFAULT_TIMEZONE)


def day_of(moment: datetime | date | None) -> date | None:
    """The network's calendar day of a moment. A naive datetime is UTC (as
    SQLite hands back what was written in UTC); a date is already a day."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment
    return as_utc(moment).astimezone(network_zone()).date()


def start_of(day: date) -> datetime:
    """The moment (UTC) the network's calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=network_zone()).astimezone(UTC)


def today() -> date:
    """Today, on the network's calendar."""
    return day_of(utcnow())


def iso(value: date | datetime | None) -> str | None:
    """A day or moment as ISO 8601 text for the API and spreadsheets; None stays None."""
    return value.isoformat() if value is not None else None
