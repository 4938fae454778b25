"""The network's calendar: the days a library is closed, and the deadlines
that must not fall on them.

A library is closed on:
- the network's closed days: public holidays and collective leave (cuti
  bersama), kept on the calendar page by coordinators (``ClosedDay`` rows
  with no library), and the ``AGREEMENTS_HOLIDAYS`` setting;
- its own closed days (a semester break, stocktaking), kept by its librarians;
- the days of the week it closes (``Partner.closed_weekdays``; none unless set).

The rules that read them, here and nowhere else:
- a library closed today by closed days of its own is not asked to lend
  (``closures_on``; routing passes it over as it does a paused library);
- a lender has working days to answer: Monday to Friday, not a day the
  network or the lender is closed (``Calendar.working_days_after``);
- a due date given by default, and the last day a book waits on the hold
  shelf, never fall on a day the borrowing library is closed: they move to
  its next open day (``Calendar.open_on_or_after``).

A deadline already set keeps its day when a closed day is added later; the
hold shelf's last day is reckoned afresh each day, so it moves.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# ISO weekday numbers (Monday 1 ... Sunday 7), as closed_weekdays stores them.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead a calendar is read: deadlines fall within it.
HORIZON_DAYS = 400
# At most this many days added at once (a range on the page or in the API).
MAX_RANGE_DAYS = 366


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
    if holidays is None:
        holidays = configured_holidays()
    return Calendar(frozenset(holidays)).working_days_after(day, n)


def weekdays_text(numbers: Iterable[int]) -> str:
    """closed_weekdays as stored: ISO weekday digits, in order."""
    return "".join(str(n) for n in sorted(set(numbers)))


def weekday_numbers(stored: str | None) -> frozenset[int]:
    return frozenset(int(c) for c in (stored or "") if c.isdigit() and 1 <= int(c) <= 7)


def weekday_names(stored: str | None) -> list[str]:
    return [WEEKDAYS[n - 1] for n in sorted(weekday_numbers(stored))]


@dataclass(frozen=True)
class Calendar:
    """One library's closed days (its own and the network's) and the days of
    the week it closes; ``Calendar()`` is open every day."""

    closed_dates: frozenset[date] = frozenset()
    closed_weekdays: frozenset[int] = frozenset()  # ISO: Monday 1 ... Sunday 7

    def is_open(self, day: date) -> bool:
        return day.isoweekday() not in self.closed_weekdays and day not in self.closed_dates

    def is_working_day(self, day: date) -> bool:
        """A day to answer requests on: Monday to Friday, and open."""
        return day.weekday() < 5 and self.is_open(day)

    def working_days_after(self, day: date, n: int) -> date:
        if n < 0:
            raise ValueError("n must not be negative")
        current, left = day, n
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def open_on_or_after(self, day: date) -> date:
        """``day`` if the library is open then, else its next open day (``day``
        itself if it is closed for longer than the calendar reaches)."""
        current = day
        for _ in range(HORIZON_DAYS):
            if self.is_open(current):
                return current
            current += timedelta(days=1)
        return day


# --- reading a library's calendar ---------------------------------------------


def for_library(session, library, start: date) -> Calendar:
    """The calendar of ``library`` (a Partner, its id, or None for the
    network alone) from ``start`` to HORIZON_DAYS after it; read once per
    session and library and day (a page of requests, a batch of shipments
    ask it again and again), and read afresh once the session changes a
    closed day (``add``, ``remove``)."""
    from .models import Partner

    partner = session.get(Partner, library) if isinstance(library, int) else library
    kept = session.info.setdefault(_SESSION_CALENDARS, {})
    key = (getattr(partner, "id", None), start)
    if key not in kept:
        kept[key] = _read_calendar(session, partner, start)
    return kept[key]


_SESSION_CALENDARS = "ill_calendars"


def _read_calendar(session, partner, start: date) -> Calendar:
    from sqlalchemy import or_, select

    from .models import ClosedDay

    scope = ClosedDay.partner_id.is_(None)
    if partner is not None:
        scope = or_(scope, ClosedDay.partner_id == partner.id)
    days = session.scalars(
        select(ClosedDay.day).where(scope, ClosedDay.day >= start,
                                    ClosedDay.day <= start + timedelta(days=HORIZON_DAYS))
    ).all()
    return Calendar(
        closed_dates=frozenset(days) | configured_holidays(),
        closed_weekdays=weekday_numbers(getattr(partner, "closed_weekdays", "")),
    )


def closures_on(session, day: date, partner_ids: Iterable[int] | None = None) -> dict[int, tuple[date, str]]:
    """The libraries closed on ``day`` by closed days of their own (not the
    network's, not their weekly closing): {partner_id: (the last day of that
    run of closed days, its first day's reason)}. Routing passes them over, as
    it does a library whose lending is paused."""
    from sqlalchemy import select

    from .models import ClosedDay

    today = select(ClosedDay.partner_id).where(ClosedDay.day == day, ClosedDay.partner_id.is_not(None))
    if partner_ids is not None:
        partner_ids = list(partner_ids)
        if not partner_ids:
            return {}
        today = today.where(ClosedDay.partner_id.in_(partner_ids))
    rows = session.execute(
        select(ClosedDay.partner_id, ClosedDay.day, ClosedDay.reason)
        .where(ClosedDay.partner_id.in_(today), ClosedDay.day >= day,
               ClosedDay.day <= day + timedelta(days=HORIZON_DAYS))
        .order_by(ClosedDay.partner_id, ClosedDay.day)
    ).all()
    out: dict[int, tuple[date, str]] = {}
    for partner_id, closed, reason in rows:
        if partner_id not in out:
            if closed == day:
                out[partner_id] = (closed, reason or "")
        elif closed == out[partner_id][0] + timedelta(days=1):
            out[partner_id] = (closed, out[partner_id][1])
    return out


CLOSURES_KEPT_SECONDS = 60


def closures_kept(session, day: date) -> dict[int, tuple[date, str]]:
    """``closures_on`` for every library, as read at most once a minute per
    application (a page of search results asks it again and again); a change
    made through this application is seen at once."""
    from ill.kept import kept

    return kept("calendar_closures", day, CLOSURES_KEPT_SECONDS, lambda: closures_on(session, day))


def forget(session) -> None:
    """The calendars read so far are read afresh: a closed day or a
    library's days of the week changed."""
    from ill.kept import forget

    forget("calendar_closures")
    session.info.pop(_SESSION_CALENDARS, None)


# Called with (session, library id, or None for the whole network) once closed
# days or a library's days of the week have changed, after the calendars are
# read afresh: the loans package keeps the deadlines it has set in step
# (ill.requests_service.follow_calendar). Agreements know nothing of loans.
on_change: list = []


def changed(session, library_id: int | None) -> None:
    forget(session)
    for hook in list(on_change):
        hook(session, library_id)


# --- keeping the calendar -----------------------------------------------------

MANAGERS = ("coordinator", "admin")


def may_keep(user, library) -> bool:
    """Coordinators keep the network's closed days and every library's; a
    librarian keeps their own library's."""
    role = getattr(user, "role", None)
    if role in MANAGERS:
        return True
    return role == "librarian" and library is not None and user.library_id == library.id


def _check_may_keep(user, library) -> None:
    """``user`` None: the service itself (the command line, the demo)."""
    from flask_babel import gettext as _

    from ill.errors import Forbidden

    if user is not None and not may_keep(user, library):
        if library is None:
            raise Forbidden(_("Only a coordinator may keep the network's closed days."))
        raise Forbidden(_("Only that library's librarians or a coordinator may keep its closed days."))


def listing(session, library_id: int | None, start: date, end: date | None = None,
            *, every_library: bool = False) -> list:
    """Closed days from ``start`` (to ``end``): the network's and one
    library's, or (``every_library``) the network's and every library's;
    by day, the network's first."""
    from sqlalchemy import or_, select

    from .models import ClosedDay

    where = [ClosedDay.day >= start]
    if end is not None:
        where.append(ClosedDay.day <= end)
    if not every_library:
        scope = ClosedDay.partner_id.is_(None)
        if library_id is not None:
            scope = or_(scope, ClosedDay.partner_id == library_id)
        where.append(scope)
    rows = session.scalars(select(ClosedDay).where(*where)).all()
    return sorted(rows, key=lambda c: (c.day, c.partner_id is not None, c.partner.code if c.partner else "", c.id))


def add(session, user, first: date, last: date | None, reason: str, library=None) -> tuple[list, list[date]]:
    """Closes ``library`` (None: the whole network) from ``first`` to
    ``last`` (None: that day alone). Returns the days added and those it was
    already closed on, which are left as they were."""
    from flask_babel import gettext as _
    from sqlalchemy import select

    from .errors import AgreementError
    from .models import ClosedDay

    _check_may_keep(user, library)
    if first is None:
        raise AgreementError(_("day: give the first day closed."), field="day")
    last = last or first
    if last < first:
        raise AgreementError(_("until: the last day comes before the first."), field="until")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise AgreementError(_("until: at most %(n)d days at once.", n=MAX_RANGE_DAYS), field="until")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise AgreementError(_("%(field)s: at most %(n)d characters.", field="reason", n=200), field="reason")
    scope = ClosedDay.partner_id.is_(None) if library is None else ClosedDay.partner_id == library.id
    already = set(session.scalars(select(ClosedDay.day).where(scope, ClosedDay.day >= first,
                                                              ClosedDay.day <= last)).all())
    actor = getattr(user, "email", None) or "cli"
    added, skipped = [], []
    day = first
    while day <= last:
        if day in already:
            skipped.append(day)
        else:
            row = ClosedDay(partner=library, day=day, reason=reason, actor=actor)
            session.add(row)
            added.append(row)
        day += timedelta(days=1)
    session.flush()
    changed(session, library.id if library is not None else None)
    return added, skipped


def remove(session, user, closed) -> None:
    """Opens the day again."""
    _check_may_keep(user, closed.partner)
    library_id = closed.partner_id
    session.delete(closed)
    session.flush()
    changed(session, library_id)


def public_holidays(year: int, locale: str = "id") -> list[tuple[date, str]]:
    """Indonesia's public holidays in ``year``, named in ``locale``, from the
    holidays package; the dates of the Islamic holidays are estimates
    ("perkiraan") until the government sets them, and collective leave days
    (cuti bersama) are not among them."""
    import holidays

    language = "id" if str(locale).startswith("id") else "en_US"
    found = holidays.country_holidays("ID", years=year, language=language)
    return sorted(found.items())


def add_public_holidays(session, user, year: int, locale: str = "id") -> tuple[list, list[date]]:
    """The network closed on each public holiday of ``year`` not already on
    its calendar."""
    from flask_babel import gettext as _

    from .errors import AgreementError

    if not 1900 <= year <= 2200:
        raise AgreementError(_("year: give a year such as 2027."), field="year")
    _check_may_keep(user, None)
    added, skipped = [], []
    for day, name in public_holidays(year, locale):
        more, already = add(session, user, day, None, name[:200], None)
        added += more
        skipped += already
    return added, skipped


def to_dict(closed) -> dict:
    return {"id": closed.id, "day": closed.day.isoformat(), "reason": closed.reason,
            "library": closed.partner.code if closed.partner else None}
