"""Who manages which accounts, invitations, and setting a password by a
link mailed to the account's address.

- An administrator manages every account; a coordinator every account but
  an administrator's; a librarian the patrons and librarians of their own
  library. Nobody deactivates their own account.
- A new account has no password: its owner is mailed an invitation with a
  link to set one (``ACCOUNTS_INVITE_DAYS``, 14 days).
- Someone who forgot their password asks for a link on the sign-in page
  (``ACCOUNTS_RESET_HOURS``, 24 hours), at most one every
  ``ACCOUNTS_LINK_MINUTES`` (10) minutes; the page never says whether the
  address has an account.
- A link works once: it carries a digest of the password it replaces, so
  setting a password (by it or otherwise) ends it. Setting one also ends
  the account's other sessions.
- A patron's personal data is erased on request (Indonesia's personal data
  protection law, UU PDP): the account stays, anonymous and closed, so the
  requests' history and every count stay true (``erase``).
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select

from . import accounts, clock, paging
from .accounts import AccountChange, Role, User
from .clock import as_utc, utcnow
from .errors import BadRequest, Forbidden, NotFound

MANAGERS = (Role.COORDINATOR, Role.ADMIN)
PER_PAGE = 50
NAME_MAX = 200
# Sign-in pages speak Indonesian or English; an account may prefer either.
LOCALES = ("id", "en")


def may_manage(actor: User, role: str, library_id: int | None) -> bool:
    """May ``actor`` add or change an account of ``role`` in ``library_id``?"""
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.COORDINATOR:
        return role != Role.ADMIN
    if actor.role == Role.LIBRARIAN:
        return role in (Role.PATRON, Role.LIBRARIAN) and library_id is not None and library_id == actor.library_id
    return False


def _check(actor: User, role: str, library_id: int | None) -> None:
    if not may_manage(actor, role, library_id):
        if actor.role == Role.LIBRARIAN:
            raise Forbidden(_("A librarian manages the patrons and librarians of their own library only."))
        raise Forbidden(_("You may not manage this account."))


def log(session, user: User, actor: User | None, action: str, changes: dict | None = None) -> None:
    """One line of the account's history (``AccountChange``); ``actor`` None:
    the service itself (the command line, the daily tick)."""
    label = "system" if actor is None else ("self" if actor.id == user.id else actor.email)
    session.add(AccountChange(user_id=user.id, actor_id=actor.id if actor is not None else None, actor=label,
                              action=action, changes=changes or {}))


# What each line of an account's history says, for people.
ACTION_LABELS = {
    "added": _l("account added"),
    "link_sent": _l("link to choose a password mailed"),
    "password_set": _l("password chosen by link"),
    "changed": _l("changed"),
    "deactivated": _l("deactivated"),
    "activated": _l("activated"),
    "erased": _l("personal data erased"),
}


def history(session, user: User) -> list[AccountChange]:
    return list(session.scalars(select(AccountChange).where(AccountChange.user_id == user.id)
                                .order_by(AccountChange.at.desc(), AccountChange.id.desc())))


def listing(session, actor: User, *, q: str | None = None, role: str | None = None,
            library_id: int | None = None, page=1, per_page=PER_PAGE) -> paging.Page:
    """A page of the accounts ``actor`` manages (``managed``)."""
    where = _managed(actor, q, role, library_id)
    return paging.fetch(session, select(func.count(User.id)).where(*where), _by_name(where), page, per_page)


def managed(session, actor: User, *, q: str | None = None, role: str | None = None,
            library_id: int | None = None) -> list[User]:
    """Every account ``actor`` manages, by name: a librarian's library's, or
    (coordinators) every library's or one's; found by name, e-mail or card."""
    return list(session.scalars(_by_name(_managed(actor, q, role, library_id))))


def _by_name(where: list):
    return select(User).where(*where).order_by(func.lower(User.name), User.id)


def _managed(actor: User, q, role, library_id) -> list:
    if not actor.is_staff:
        raise Forbidden(_("This is for library staff."))
    where = []
    if actor.role == Role.LIBRARIAN:
        where.append(User.library_id == actor.library_id)
    elif library_id is not None:
        where.append(User.library_id == library_id)
    if role:
        if role not in {r.value for r in Role}:
            raise BadRequest(_("Unknown role '%(role)s'.", role=role), field="role")
        where.append(User.role == role)
    text = paging.search_text(q)
    if text:
        pattern = paging.like_pattern(text)
        where.append(or_(func.lower(User.name).like(pattern, escape="\\"),
                         func.lower(User.email).like(pattern, escape="\\"),
                         accounts.card_is(text)))
    return where


def get(session, actor: User, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not may_manage(actor, user.role, user.library_id):
        # another library's account is not there, as far as a librarian can tell
        raise NotFound(_("No account %(id)d among those you manage.", id=user_id))
    return user


CARD_MAX = 50


def card_number(session, value, library_id: int | None, user_id: int | None = None) -> str:
    """A library card's number as kept: its spaces gone; at most CARD_MAX
    characters, and no other account of the library with the same one."""
    text = "".join(str(value or "").split())
    if not text:
        return ""
    if len(text) > CARD_MAX:
        raise BadRequest(_("%(field)s: at most %(n)d characters.", field="card_number", n=CARD_MAX),
                         field="card_number")
    other = session.scalar(select(User).where(User.library_id == library_id,
                                              accounts.card_is(text),
                                              User.id != (user_id or 0)))
    if other is not None:
        raise BadRequest(_("Card number %(card)s is %(email)s's already.", card=text, email=other.email),
                         field="card_number")
    return text


def _name(value) -> str:
    name = str(value or "").strip()
    if len(name) > NAME_MAX:
        raise BadRequest(_("%(field)s: at most %(n)d characters.", field="name", n=NAME_MAX), field="name")
    return name


def _locale(value) -> str | None:
    """The language an account's mail is written in; None: the network's."""
    if value not in (None, "", *LOCALES):
        raise BadRequest(_("locale: use one of %(values)s.", values=", ".join(LOCALES)), field="locale")
    return value or None


def add(session, actor: User, email: str, *, name: str = "", role: str = Role.PATRON,
        library=None, locale: str | None = None, invite: bool = True, card: str = "") -> User:
    """A new account without a password; its owner is mailed an invitation
    to set one (unless ``invite`` is false: then only a link sent later, or
    the command line, gives it one)."""
    if role not in {r.value for r in Role}:
        raise BadRequest(_("Unknown role '%(role)s'.", role=str(role)[:20]), field="role")
    if library is None and actor.role == Role.LIBRARIAN:
        library = actor.library
    _check(actor, role, library.id if library is not None else None)
    name, locale = _name(name), _locale(locale)
    card = card_number(session, card, library.id if library is not None else None)
    user = accounts.create_user(session, email, "", role, library=library, name=name, locale=locale)
    user.card_number = card
    session.flush()
    log(session, user, actor, "added", {"role": role, "library": library.code if library is not None else None})
    if invite:
        send_link(session, user, "invite", by=actor)
    return user


def update(session, actor: User, user: User, data: dict) -> None:
    """Changes an account's name, card number, language or whether it is
    active (``set_active``); anything else is refused, naming it."""
    _check(actor, user.role, user.library_id)
    unknown = set(data) - {"active", "name", "card_number", "locale"}
    if unknown:
        raise BadRequest(_("Unknown fields: %(fields)s.", fields=", ".join(sorted(unknown))), field=sorted(unknown)[0])
    if user.erased_at is not None:
        raise BadRequest(_("An erased account cannot be used again: add a new one."), field="active")
    before = {"name": user.name, "card_number": user.card_number, "locale": user.locale}
    if "name" in data:
        user.name = _name(data["name"]) or user.email.split("@")[0]
    if "card_number" in data:
        user.card_number = card_number(session, data["card_number"], user.library_id, user.id)
    if "locale" in data:
        user.locale = _locale(data["locale"])
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise BadRequest(_("%(field)s: use true or false.", field="active"), field="active")
    changed = {key: [was, getattr(user, key)] for key, was in before.items() if getattr(user, key) != was}
    if changed:
        log(session, user, actor, "changed", changed)
    if "active" in data:
        set_active(session, actor, user, data["active"])


def set_active(session, actor: User, user: User, active: bool) -> bool:
    """Deactivates (signs out everywhere, refuses sign-in and API tokens) or
    reactivates an account. True when it changed."""
    _check(actor, user.role, user.library_id)
    if active and user.erased_at is not None:
        raise BadRequest(_("An erased account cannot be used again: add a new one."), field="active")
    if user.id == actor.id and not active:
        raise BadRequest(_("You cannot deactivate your own account."), field="active")
    if user.active == active:
        return False
    user.active = active
    if not active:
        user.end_sessions()
    log(session, user, actor, "activated" if active else "deactivated")
    return True


def erase(session, actor: User, user: User) -> None:
    """Erases a patron's personal data: their name and address, the sign-in
    and its tokens, their notices, mail, preferences, search alerts and
    suspensions, the comments of their ratings, and their name in the
    requests' history. The account stays, anonymous and closed for good,
    so that the requests it made, their history and every count stay as
    they were. Refused while one of their requests is open."""
    from sqlalchemy import delete, update

    from . import notify
    from .models import LoanRequest, PatronSuspension, RequestEvent, RequestFeedback
    from .patrons import open_requests_of

    if user.role != Role.PATRON:
        raise BadRequest(_("Only a patron's account is erased; deactivate a staff account."), field="role")
    if actor is not None:
        _check(actor, user.role, user.library_id)
    if user.erased_at is not None:
        return
    open_requests = session.scalar(select(func.count(LoanRequest.id)).where(open_requests_of(user.id)))
    if open_requests:
        raise BadRequest(
            ngettext("%(num)d of their requests is still open: it must end first (a loan back, a request "
                     "cancelled).", "%(num)d of their requests are still open: they must end first (loans back, "
                     "requests cancelled).", open_requests),
            code="open_requests")
    from union_catalog.models import SearchAlert

    address = user.email
    session.execute(delete(notify.OutboxMail).where(notify.OutboxMail.to_addr == address))
    session.execute(delete(notify.Notice).where(notify.Notice.user_id == user.id))
    session.execute(delete(notify.NotificationPreference).where(notify.NotificationPreference.user_id == user.id))
    session.execute(delete(SearchAlert).where(SearchAlert.user_id == user.id))
    session.execute(delete(PatronSuspension).where(PatronSuspension.patron_id == user.id))
    session.execute(update(RequestFeedback).where(RequestFeedback.patron_id == user.id).values(comment=""))
    session.execute(update(RequestEvent).where(RequestEvent.actor_id == user.id)
                    .values(actor_label="patron"))
    for token in list(user.tokens):
        session.delete(token)
    user.name = f"#{user.id}"  # where a request names its patron: no one, just the account's number
    user.card_number = ""
    user.email = f"erased-{user.id}@erased.invalid"
    user.password_hash = ""
    user.locale = None
    user.mail_digest = False
    user.password_link_sent_at = None
    user.active = False
    user.erased_at = utcnow()
    user.end_sessions()
    # the history keeps what was done and by whom, not the data it changed
    session.execute(update(AccountChange).where(AccountChange.user_id == user.id).values(changes={}))
    log(session, user, actor, "erased")


def own_data(session, user: User) -> dict:
    """Everything the service keeps about ``user`` that is theirs to see (UU
    PDP: the right of access): the account, its history, their requests
    with what they saw of them, their notices, ratings and search alerts.
    Messages between the libraries about their requests are not theirs."""
    from union_catalog.models import SearchAlert

    from . import notify
    from .models import LoanRequest, RequestFeedback
    from .workflow import for_patron

    requests = session.scalars(select(LoanRequest).where(LoanRequest.patron_id == user.id)
                               .order_by(LoanRequest.id)).all()
    ratings = {f.request_id: f for f in session.scalars(select(RequestFeedback)
                                                        .where(RequestFeedback.patron_id == user.id))}
    return {
        "account": {**to_dict(user), "library_name": user.library.name if user.library else None,
                    "mail_digest": user.mail_digest},
        "account_history": [change_to_dict(c) for c in history(session, user)],
        "requests": [{
            "id": r.id, "service": r.service, "status": r.status, "title": r.title, "citation": r.citation or {},
            "note": r.note, "created_on": clock.iso(r.created_on), "needed_by": clock.iso(r.needed_by),
            "due_date": clock.iso(r.due_date),
            "rating": ratings[r.id].rating if r.id in ratings else None,
            "rating_comment": ratings[r.id].comment if r.id in ratings else None,
            "events": [{"at": e.at.isoformat() if e.at else None, "action": e.action, "to": e.to_status,
                        "note": e.note} for e in r.events if for_patron(e)],
        } for r in requests],
        "notices": [{"at": n.created_at.isoformat() if n.created_at else None, "kind": n.kind,
                     "subject": n.subject, "body": n.body} for n in session.scalars(
            select(notify.Notice).where(notify.Notice.user_id == user.id).order_by(notify.Notice.id))],
        "search_alerts": [{"label": a.label, "query": a.query_string} for a in session.scalars(
            select(SearchAlert).where(SearchAlert.user_id == user.id).order_by(SearchAlert.id))],
    }


def erase_expired(session, day) -> list[str]:
    """The daily tick's step: a patron account deactivated
    ``ACCOUNTS_ERASE_AFTER_DAYS`` days ago or more (0: never), none of whose
    requests is open, has its personal data erased. An account deactivated
    before its history was kept has no day to count from and is left."""
    from .config import setting
    from .models import LoanRequest
    from .patrons import open_requests_of

    days = int(setting("ACCOUNTS_ERASE_AFTER_DAYS") or 0)
    if days <= 0:
        return []
    last = (select(AccountChange.user_id, func.max(AccountChange.at).label("at"))
            .where(AccountChange.action == "deactivated").group_by(AccountChange.user_id).subquery())
    open_ = select(LoanRequest.id).where(open_requests_of(User.id))
    lines = []
    for user, at in session.execute(
            select(User, last.c.at).join(last, last.c.user_id == User.id)
            .where(User.role == Role.PATRON, User.active.is_(False), User.erased_at.is_(None), ~open_.exists())
            .order_by(User.id)):
        if (day - clock.day_of(at)).days < days:
            continue
        erase(session, None, user)
        lines.append(f"patron {user.id}: personal data erased, deactivated on {clock.day_of(at).isoformat()}")
    return lines


# --- links to set a password ---------------------------------------------------

PURPOSES = ("invite", "reset")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"ill-password-{purpose}")


def _password_digest(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def _max_age(purpose: str) -> int:
    from .config import setting

    if purpose == "invite":
        return int(setting("ACCOUNTS_INVITE_DAYS")) * 86400
    return int(setting("ACCOUNTS_RESET_HOURS")) * 3600


def make_link_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps([user.id, _password_digest(user)])


def user_for_link(session, token: str) -> tuple[User, str]:
    """The account a link speaks for and its purpose; a link that is
    expired, used or made up raises BadRequest saying so."""
    for purpose in PURPOSES:
        try:
            user_id, digest = _serializer(purpose).loads(token, max_age=_max_age(purpose))
        except SignatureExpired:
            raise BadRequest(_("This link has expired. Ask for a new one on the sign-in page."),
                             code="link_expired") from None
        except (BadSignature, ValueError, TypeError):
            continue
        user = session.get(User, user_id) if isinstance(user_id, int) else None
        if user is None or not user.active or digest != _password_digest(user):
            break
        return user, purpose
    raise BadRequest(_("This link is not valid (any more): it works once. Ask for a new one on the "
                       "sign-in page."), code="link_invalid")


def send_link(session, user: User, purpose: str, by: User | None = None) -> None:
    """Mails ``user`` a link to set their password: an invitation or a reset."""
    from . import notify

    link = notify.site_url("views.set_password", token=make_link_token(user, purpose))
    kind = "account_invitation" if purpose == "invite" else "password_reset"
    days = _max_age(purpose) // 86400
    hours = _max_age(purpose) // 3600
    notify.mail_only(session, user, kind, link=link, days=days, hours=hours,
                     library=user.library.name if user.library else "",
                     by=by.name if by is not None else "")
    user.password_link_sent_at = utcnow()
    log(session, user, by, "link_sent", {"purpose": purpose})


def mail_link(session, actor: User, user: User) -> None:
    """A librarian or coordinator mails an account's owner a link to choose a
    password: the invitation again while it has none, else a reset."""
    _check(actor, user.role, user.library_id)
    if not user.active:
        raise BadRequest(_("Activate the account first."), field="active")
    send_link(session, user, "invite" if not user.password_hash else "reset", by=actor)


def forgot(session, email: str) -> bool:
    """A reset link for the account with this address, if there is an active
    one and no link went to it in the last minutes. True when one was sent
    (the page does not say)."""
    from .config import setting

    user = accounts.find_user(session, email)
    if user is None or not user.active:
        return False
    last = as_utc(user.password_link_sent_at)
    if last is not None and utcnow() - last < timedelta(minutes=int(setting("ACCOUNTS_LINK_MINUTES"))):
        return False
    send_link(session, user, "reset", by=user)
    return True


# --- a list of patrons from a spreadsheet -----------------------------------------

IMPORT_MAX_ROWS = 5000
# More invitations than this from one spreadsheet wait in the outbox for
# `flask mail flush` (cron, every few minutes) and the tick, rather than
# holding the web request while the mail server takes them one by one.
IMPORT_MAIL_NOW = 20


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)

    def to_dict(self) -> dict:
        return {"added": self.added, "existing": self.existing,
                "problems": [{"line": line, "message": message} for line, message in self.problems]}


_HEADINGS = {
    "email": "email", "e-mail": "email", "surel": "email", "alamat surel": "email",
    "name": "name", "nama": "name", "nama lengkap": "name",
    "role": "role", "peran": "role",
    "locale": "locale", "language": "locale", "bahasa": "locale",
    "card": "card", "card_number": "card", "card number": "card", "nim": "card", "nomor anggota": "card",
    "no anggota": "card", "no. anggota": "card",
}


def import_csv(session, actor: User, text: str, library=None, invite: bool = True) -> ImportReport:
    """Accounts from a spreadsheet saved as CSV (comma, semicolon or tab):
    a heading row naming at least the e-mail column (``email``/``surel``),
    and ``name``/``nama``, ``role``/``peran`` (patron unless given),
    ``locale``/``bahasa``, ``card``/``nim``/``nomor anggota``. Each row is added in a savepoint of its own: a row
    that is wrong is named by its line and left out, an address that has an
    account already is listed and left as it is."""
    if library is None and actor.role == Role.LIBRARIAN:
        library = actor.library
    if library is None:
        raise BadRequest(_("Name the library the accounts belong to."), field="library")
    _check(actor, Role.PATRON, library.id)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise BadRequest(_("The file is empty."), field="file")
    columns = [_HEADINGS.get(h.strip().lower().lstrip("\ufeff")) for h in rows[0]]
    if "email" not in columns:
        raise BadRequest(_("The first row must name the columns, one of them the e-mail address "
                           "(email or surel)."), field="file")
    if len(rows) - 1 > IMPORT_MAX_ROWS:
        raise BadRequest(_("At most %(n)d accounts at once.", n=IMPORT_MAX_ROWS), field="file")
    report = ImportReport()
    for line, row in enumerate(rows[1:], start=2):
        values = {col: cell.strip() for col, cell in zip(columns, row, strict=False) if col}
        if not any(values.values()):
            continue
        email = accounts.normalise_email(values.get("email", ""))
        if email and accounts.find_user(session, email) is not None:
            report.existing.append(email)
            continue
        savepoint = session.begin_nested()
        try:
            add(session, actor, email, name=values.get("name", ""), role=values.get("role") or Role.PATRON,
                library=library, locale=(values.get("locale") or "").lower() or None, invite=invite,
                card=values.get("card", ""))
        except (BadRequest, Forbidden) as exc:
            savepoint.rollback()
            report.problems.append((line, exc.message))
            continue
        savepoint.commit()
        report.added.append(email)
    if invite and len(report.added) > IMPORT_MAIL_NOW:
        session.info["ill_defer_mail"] = True
    return report


def change_to_dict(change: AccountChange) -> dict:
    return {"at": change.at.isoformat() if change.at else None, "actor": change.actor, "action": change.action,
            "changes": change.changes or {}}


def to_dict(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "card_number": user.card_number or None,
            "library": user.library.code if user.library else None, "locale": user.locale,
            "active": user.active, "has_password": bool(user.password_hash),
            "erased_at": user.erased_at.isoformat() if user.erased_at else None,
            "created_at": user.created_at.isoformat() if user.created_at else None}
