"""A borrowing library's patrons as interlibrary loan sees them: whether one
may make a request now (the library's limit on open requests, a suspension)
and how each stands (open, overdue and lost requests).

Only the patron's own library (its librarians) and administrators see a
patron's standing or suspend one; a patron sees their own allowance."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from . import clock, notify, paging
from .accounts import Role, User, card_is, utcnow
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .loan_notices import name_of
from .models import TERMINAL_STATES, LoanRequest, PatronSuspension
from .workflow import LOST

REASON_MAX = 255


# --- may this patron ask now? -------------------------------------------------


def open_requests_of(patron_id):
    """The SQL condition: a request of this patron (an id, or a column such as
    ``User.id``) that is not yet closed, a book reported lost included."""
    return and_(LoanRequest.patron_id == patron_id, LoanRequest.status.not_in(TERMINAL_STATES))


def open_requests_allowed(session, user: User) -> tuple[int, int] | None:
    """(open requests the patron has, the most their library allows), or None
    when the library sets no limit or the user is not a patron. Every request
    not yet closed counts, a book reported lost included."""
    library = user.library
    if user.role != Role.PATRON or library is None or library.max_open_requests is None:
        return None
    count = session.scalar(select(func.count(LoanRequest.id)).where(open_requests_of(user.id)))
    return count or 0, library.max_open_requests


def kept_back(session, user: User, day: date) -> LoanRequest | None:
    """Where the patron's library blocks patrons who keep books
    (``block_overdue_patrons``): the first of their loans past its due date
    and not yet shipped back, or reported lost and not settled; else None."""
    from sqlalchemy import or_

    from .overdue import late

    library = user.library
    if user.role != Role.PATRON or library is None or not library.block_overdue_patrons:
        return None
    return session.scalar(
        select(LoanRequest).where(
            LoanRequest.patron_id == user.id, or_(late(day), LoanRequest.status == "lost"))
        .order_by(LoanRequest.due_date, LoanRequest.id).limit(1))


def _in_force(day: date):
    """Suspensions in force on ``day``: not lifted, not yet past their last day."""
    return select(PatronSuspension).where(PatronSuspension.lifted_at.is_(None), PatronSuspension.until >= day)


def suspension_of(session, patron_id: int, day: date) -> PatronSuspension | None:
    """The suspension in force on ``day`` (the one lasting longest), if any."""
    return session.scalar(_in_force(day).where(PatronSuspension.patron_id == patron_id)
                          .order_by(PatronSuspension.until.desc()).limit(1))


def check_may_request(session, user: User, day: date) -> None:
    """Refuses (409) a patron whose library has suspended their requests,
    who keeps a book overdue or lost where the library blocks for it, or who
    has as many open requests as it allows."""
    if user.role != Role.PATRON:
        return
    held = suspension_of(session, user.id, day)
    if held is not None:
        from .ui import format_day

        raise Conflict(
            _(
                "%(library)s has suspended your interlibrary loan requests until %(day)s%(reason)s. "
                "Ask at its desk.",
                library=name_of(user.library), day=format_day(held.until),
                reason=(": " + held.reason) if held.reason else "",
            ),
            code="suspended",
            details={"until": held.until.isoformat(), "reason": held.reason},
        )
    kept = kept_back(session, user, day)
    if kept is not None:
        raise Conflict(
            _(
                "%(library)s takes no new request from you while \"%(title)s\" (request #%(id)s) is "
                "overdue or lost: return it, or ask at the desk.",
                library=user.library.name, title=kept.title[:100], id=kept.id,
            ),
            code="overdue",
            details={"request_id": kept.id},
        )
    allowance = open_requests_allowed(session, user)
    if allowance is not None and allowance[0] >= allowance[1]:
        count, limit = allowance
        raise Conflict(
            _(
                "You have %(count)d open requests, as many as %(library)s allows each patron (%(limit)d): "
                "wait until one is finished, or cancel one you no longer need.",
                count=count, library=user.library.name, limit=limit,
            ),
            code="limit",
            details={"open": count, "limit": limit},
        )


# --- a library's patrons -----------------------------------------------------------


def _library_of(librarian: User) -> int | None:
    """The library whose patrons this user may see: a librarian's own; None for an admin (all)."""
    if librarian.role == Role.ADMIN:
        return None
    if librarian.role == Role.LIBRARIAN and librarian.library_id is not None:
        return librarian.library_id
    raise Forbidden(_("Only a library's librarians see its patrons."))


def get_patron(session, librarian: User, patron_id: int) -> User:
    """A patron of the librarian's own library; 404 for anyone else's."""
    library_id = _library_of(librarian)
    patron = session.get(User, patron_id)
    if patron is None or patron.role != Role.PATRON or (library_id is not None and patron.library_id != library_id):
        raise NotFound(_("No patron %(id)s in your library.", id=patron_id))
    return patron


# How many patrons the patrons page shows at once.
PER_PAGE = 50


def standing_page(session, librarian: User, day: date | None = None, *, patron_id: int | None = None,
                  q: str | None = None, page=1, per_page=PER_PAGE) -> paging.Page:
    """Each patron of the librarian's library (all, for an administrator)
    with their requests, open, overdue and lost, and the suspension in force;
    the most open first, then by name. ``q``: part of their name or e-mail
    address."""
    from sqlalchemy import or_

    day = day or clock.today()
    library_id = _library_of(librarian)
    where = [User.role == Role.PATRON]
    if library_id is not None:
        where.append(User.library_id == library_id)
    if patron_id is not None:
        where.append(User.id == patron_id)
    q = paging.search_text(q)
    if q:
        like = paging.like_pattern(q)
        where.append(or_(User.name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\"),
                         card_is(q)))
    open_ = func.sum(case((LoanRequest.status.not_in(TERMINAL_STATES), 1), else_=0))
    overdue = func.sum(case((LoanRequest.status == "overdue", 1), else_=0))
    lost = func.sum(case((LoanRequest.status.in_(LOST), 1), else_=0))
    stmt = (select(User, func.count(LoanRequest.id), open_, overdue, lost)
            .outerjoin(LoanRequest, LoanRequest.patron_id == User.id)
            .where(*where).group_by(User.id)
            .order_by(open_.desc(), overdue.desc(), func.lower(func.coalesce(func.nullif(User.name, ""), User.email)),
                      User.id))
    found = paging.fetch(session, select(func.count(User.id)).where(*where), stmt, page, per_page, scalars=False)
    rows, found.rows = found.rows, []
    held = {s.patron_id: s for s in session.scalars(
        _in_force(day).where(PatronSuspension.patron_id.in_([row[0].id for row in rows]))
        .order_by(PatronSuspension.until))}
    for user, n, n_open, n_overdue, n_lost in rows:
        s = held.get(user.id)
        found.rows.append({"id": user.id, "name": user.name, "email": user.email,
                           "card_number": user.card_number or None,
                           "library": user.library.code if user.library else None,
                           "requests": n or 0, "open": n_open or 0, "overdue": n_overdue or 0, "lost": n_lost or 0,
                           "suspended_until": s.until.isoformat() if s else None,
                           "suspension_reason": s.reason if s else None})
    return found


def standing(session, librarian: User, day: date | None = None, patron_id: int | None = None) -> list[dict]:
    """``standing_page``'s first page, as many as a page may hold (one
    patron's row with ``patron_id``)."""
    return standing_page(session, librarian, day, patron_id=patron_id, per_page=paging.MAX_PER_PAGE).rows


def history(session, patron_id: int) -> list[PatronSuspension]:
    return list(session.scalars(select(PatronSuspension).where(PatronSuspension.patron_id == patron_id)
                                .order_by(PatronSuspension.id.desc())))


def suspend(session, librarian: User, patron_id: int, until, reason: str, day: date | None = None
            ) -> PatronSuspension:
    """Stops the patron's requests up to and including ``until``, and tells
    the patron. Their open requests go on: the suspension is about asking
    for more."""
    day = day or clock.today()
    patron = get_patron(session, librarian, patron_id)
    if isinstance(until, str):
        try:
            until = date.fromisoformat(until.strip())
        except ValueError:
            raise BadRequest(_("'until' must be a date as YYYY-MM-DD, not '%(value)s'.", value=until[:40]),
                             field="until")
    if not isinstance(until, date):
        raise BadRequest(_("Give the last day of the suspension ('until', YYYY-MM-DD)."), field="until")
    if until < day:
        raise BadRequest(_("The last day of the suspension is in the past."), field="until")
    reason = str(reason or "").strip()
    if not reason:
        raise BadRequest(_("Say why the patron is suspended ('reason'): they are told."), field="reason")
    if len(reason) > REASON_MAX:
        raise BadRequest(_("'reason' is longer than %(n)d characters.", n=REASON_MAX), field="reason")
    for current in session.scalars(_in_force(day).where(PatronSuspension.patron_id == patron.id)):
        # the new one replaces what was in force
        current.lifted_at, current.lifted_by = utcnow(), librarian.id
    row = PatronSuspension(patron_id=patron.id, until=until, reason=reason, created_by=librarian.id)
    session.add(row)
    session.flush()
    # the patron hears of it, in their language, with why and until when
    notify.notify(session, patron, "ill_suspended", until=row.until, reason=row.reason,
                  library=name_of(patron.library), dedupe_key=f"ill_suspended:{row.id}")
    return row


def lift(session, librarian: User, patron_id: int, day: date | None = None) -> int:
    """Ends the suspension in force now, and tells the patron; returns how
    many were lifted (0 when none, and nobody is told)."""
    day = day or clock.today()
    patron = get_patron(session, librarian, patron_id)
    rows = list(session.scalars(_in_force(day).where(PatronSuspension.patron_id == patron.id)))
    for row in rows:
        row.lifted_at, row.lifted_by = utcnow(), librarian.id
    if rows:
        notify.notify(session, patron, "ill_suspension_lifted", library=name_of(patron.library))
    return len(rows)
