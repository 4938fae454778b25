"""Mail and in-app notices, shell infrastructure every package may call.

``notify(session, user, kind, **context)`` records a Notice (the in-app list and
the record of what was said, which makes repeated calls with one
``dedupe_key`` harmless) and queues a mail in the recipient's language. Mail
leaves only after the transaction commits, from the outbox table, so a
rolled-back action sends nothing and a mail server that is down loses nothing:
the row stays queued and is retried with a growing delay by the next flush (the
next commit that queues mail, the daily tick, or ``flask --app ill mail flush``).
"""
from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import outbox
from .accounts import Role, User, utcnow
from .clock import as_utc
from .extensions import db

log = logging.getLogger(__name__)

MAIL_PENDING = "ill_mail_pending"  # a session queued mail: send it after its commit

PATRON, LIBRARIAN, COORDINATOR = "patron", "librarian", "coordinator"
EVERYONE = "everyone"  # any signed-in user may receive it
STAFF = "staff"  # librarians, coordinators and administrators
ACCOUNT = "account"  # about the account itself, mailed only (mail_only); never on the preferences page


@dataclass(frozen=True)
class Kind:
    """One kind of message. ``subject`` is a msgid with %(name)s fields filled
    from the context; ``template`` renders the plain-text mail body (and the
    in-app text). ``must_know`` kinds cannot be turned off."""

    subject: object
    template: str
    label: object
    audience: str
    must_know: bool = False


# The one register of message kinds. Packages add theirs here (or through
# register()) so the preferences page can list every kind a user may receive.
MESSAGES: dict[str, Kind] = {
    # To the lending library's librarians
    "request_new": Kind(
        _l("New request #%(request_id)s in your queue"), "mail/request_new.txt",
        _l("A new request arrives in my library's lending queue"), LIBRARIAN),
    "answer_due": Kind(
        _l("Last day to answer request #%(request_id)s: %(title)s"), "mail/answer_due.txt",
        _l("A request to my library waits for its answer on its last day"), LIBRARIAN),
    "renewal_asked": Kind(
        _l("Renewal asked for request #%(request_id)s"), "mail/renewal_asked.txt",
        _l("A borrowing library asks to renew a loan"), LIBRARIAN),
    "renewal_asked_by_patron": Kind(
        _l("Your patron asked to renew request #%(request_id)s"), "mail/renewal_asked_by_patron.txt",
        _l("A patron of my library asks the lender to renew a loan"), LIBRARIAN),
    "request_cancelled": Kind(
        _l("Request #%(request_id)s was cancelled"), "mail/request_cancelled.txt",
        _l("A request in my library's queue is cancelled"), LIBRARIAN),
    "loan_lost": Kind(
        _l("Reported lost: %(title)s (request #%(request_id)s)"), "mail/loan_lost.txt",
        _l("A borrowing library reports a book my library lent as lost"), LIBRARIAN, must_know=True),
    "long_overdue_lent": Kind(
        _l("Still not back, %(days)s days overdue: %(title)s"), "mail/long_overdue_lent.txt",
        _l("A book my library lent is long overdue"), LIBRARIAN),
    "loss_unsettled": Kind(
        _l("A loss waits for your settlement: %(title)s (request #%(request_id)s)"), "mail/loss_unsettled.txt",
        _l("A loss reported to my library waits for its settlement"), LIBRARIAN),
    # To the borrowing library's librarians
    "long_overdue": Kind(
        _l("Long overdue, %(days)s days: %(title)s (request #%(request_id)s)"), "mail/long_overdue.txt",
        _l("A book my library borrowed is long overdue"), LIBRARIAN, must_know=True),
    "request_message": Kind(
        _l("Message on request #%(request_id)s: %(title)s"), "mail/request_message.txt",
        _l("A library or a patron writes about a request of my library"), LIBRARIAN, must_know=True),
    "renewal_answered_library": Kind(
        _l("Renewal answered for request #%(request_id)s: %(title)s"), "mail/renewal_answered_library.txt",
        _l("A lender answers a renewal of a book my library borrowed"), LIBRARIAN),
    "not_collected": Kind(
        _l("Not collected: %(title)s (request #%(request_id)s)"), "mail/not_collected.txt",
        _l("A book my library received for a patron was not collected in time"), LIBRARIAN, must_know=True),
    "loss_settled": Kind(
        _l("Loss settled for request #%(request_id)s"), "mail/loss_settled.txt",
        _l("A lender settles a loss my library reported"), LIBRARIAN, must_know=True),
    # To patrons
    "request_made_for_you": Kind(
        _l("Your library asked for %(title)s for you"), "mail/request_made_for_you.txt",
        _l("My library makes a request for me (at the desk, by telephone)"), PATRON, must_know=True),
    "ready_for_pickup": Kind(
        _l("Ready for pick-up: %(title)s"), "mail/ready_for_pickup.txt",
        _l("A book I asked for is ready for pick-up"), PATRON),
    "request_message_patron": Kind(
        _l("A message from your library about %(title)s"), "mail/request_message_patron.txt",
        _l("My library writes about one of my requests"), PATRON, must_know=True),
    "renewal_answered": Kind(
        _l("Your renewal: %(title)s"), "mail/renewal_answered.txt",
        _l("The lending library answers a renewal of my loan"), PATRON, must_know=True),
    "pickup_reminder": Kind(
        _l("Still waiting for you until %(until)s: %(title)s"), "mail/pickup_reminder.txt",
        _l("A book waiting for me is about to go back"), PATRON),
    "pickup_expired": Kind(
        _l("Not collected, going back: %(title)s"), "mail/pickup_expired.txt",
        _l("A book I did not collect in time goes back"), PATRON, must_know=True),
    "copy_ready": Kind(
        _l("Your copy is ready: %(title)s"), "mail/copy_ready.txt",
        _l("A copy I asked for is ready to download"), PATRON),
    "unfilled": Kind(
        _l("Your request could not be filled: %(title)s"), "mail/unfilled.txt",
        _l("No library could supply what I asked for"), PATRON, must_know=True),
    "request_expired": Kind(
        _l("Not supplied in time: %(title)s"), "mail/request_expired.txt",
        _l("A request is withdrawn because no library supplied it by the day I needed it"), PATRON,
        must_know=True),
    "ill_suspended": Kind(
        _l("Your interlibrary loan requests are suspended until %(until)s"), "mail/ill_suspended.txt",
        _l("My library suspends my interlibrary loan requests"), PATRON, must_know=True),
    "ill_suspension_lifted": Kind(
        _l("You may make interlibrary loan requests again"), "mail/ill_suspension_lifted.txt",
        _l("My library lifts the suspension of my requests"), PATRON),
    "due_soon": Kind(
        _l("Due in %(days)s days: %(title)s"), "mail/due_soon.txt",
        _l("A loan is due in a few days"), PATRON),
    "overdue": Kind(
        _l("Overdue: %(title)s"), "mail/overdue.txt",
        _l("A loan is overdue"), PATRON, must_know=True),
    "recalled": Kind(
        _l("Recalled: please return %(title)s"), "mail/recalled.txt",
        _l("The lending library recalls a loan"), PATRON, must_know=True),
    # To coordinators (sent by the agreements package)
    "agreement_expiring": Kind(
        _l("Agreement ending on %(end)s: %(title)s"), "mail/agreement_expiring.txt",
        _l("A cooperation agreement is about to end"), COORDINATOR),
    "agreement_expired": Kind(
        _l("Agreement ended: %(title)s"), "mail/agreement_expired.txt",
        _l("A cooperation agreement has ended"), COORDINATOR, must_know=True),
    # A scheduled harvest that failed (sent by the union catalogue): to the
    # library's librarians, and to coordinators
    "harvest_failed": Kind(
        _l("Harvest of %(library)s failed"), "mail/harvest_failed.txt",
        _l("A scheduled harvest of my library's catalogue fails"), LIBRARIAN),
    "partner_harvest_failed": Kind(
        _l("Harvest of %(library)s failed"), "mail/harvest_failed.txt",
        _l("A scheduled harvest of a partner's catalogue fails"), COORDINATOR),
    # An import someone started has ended (sent by the union catalogue's jobs)
    "import_finished": Kind(
        _l("Import for %(library)s has ended"), "mail/import_finished.txt",
        _l("An import or harvest I started has ended"), STAFF),
    # What a reader or librarian says is wrong with a union record, and the
    # coordinators' answer (sent by the union catalogue)
    "record_problem": Kind(
        _l("Problem reported with union record %(record)s"), "mail/record_problem.txt",
        _l("Someone reports a problem with a union record"), COORDINATOR),
    "record_problem_closed": Kind(
        _l("Your report on union record %(record)s is answered"), "mail/record_problem_closed.txt",
        _l("My report of a problem with a record is answered"), EVERYONE),
    # A search one follows finds union records new to the network (sent by
    # the union catalogue's daily alerts)
    "search_alert": Kind(
        _l("New in the catalogue: %(search)s"), "mail/search_alert.txt",
        _l("A search I follow finds records new to the network"), EVERYONE),
    # A new account, and a forgotten password: a link to set one (ill.people)
    "account_invitation": Kind(
        _l("Your account on the ILL Network"), "mail/account_invitation.txt",
        _l("An invitation to a new account"), ACCOUNT, must_know=True),
    "password_reset": Kind(
        _l("Set a new password for the ILL Network"), "mail/password_reset.txt",
        _l("A link to set a new password"), ACCOUNT, must_know=True),
}


def register(name: str, kind: Kind) -> None:
    if name in MESSAGES and MESSAGES[name] != kind:
        raise ValueError(f"message kind {name!r} is registered already")
    MESSAGES[name] = kind


# --- models -------------------------------------------------------------------

class Notice(db.Model):
    """What a user was told, in their language; the in-app list shows the
    ones with ``in_app``."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    in_app: Mapped[bool] = mapped_column(default=True)
    # Same key, same user: said once (e.g. "due_soon:42:2026-11-26").
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class OutboxMail(db.Model):
    """A mail waiting to leave, or sent. Kept after sending as the record."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"),
                                                  index=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # A sender holds a row while it talks to the server, so that two flushes
    # (a web request and the tick) never send one mail twice.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # A mail to someone who reads their mail once a day waits for the day's
    # digest (send_digests) instead of leaving; digest_id is the digest's row.
    held: Mapped[bool] = mapped_column(default=False, server_default=false())
    digest_id: Mapped[int | None] = mapped_column(Integer)


class NotificationPreference(db.Model):
    """A user's choice for one kind; no row means both channels are on."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    mail: Mapped[bool] = mapped_column(default=True)
    in_app: Mapped[bool] = mapped_column(default=True)


# --- preferences --------------------------------------------------------------

def kinds_for(user: User) -> list[tuple[str, Kind]]:
    """The kinds this user may receive, for the preferences page."""
    audience = {Role.PATRON.value: {PATRON}, Role.LIBRARIAN.value: {LIBRARIAN, STAFF},
                Role.COORDINATOR.value: {COORDINATOR, STAFF},
                Role.ADMIN.value: {COORDINATOR, STAFF}}.get(user.role, set())
    audience.add(EVERYONE)
    return [(name, kind) for name, kind in MESSAGES.items() if kind.audience in audience]


def preferences(session, user: User) -> dict[str, tuple[bool, bool]]:
    """kind -> (mail, in_app) as they apply, must-know kinds always on."""
    rows = {p.kind: p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    out = {}
    for name, kind in MESSAGES.items():
        row = rows.get(name)
        if kind.must_know or row is None:
            out[name] = (True, True)
        else:
            out[name] = (row.mail, row.in_app)
    return out


def set_preference(session, user: User, kind: str, *, mail: bool, in_app: bool) -> None:
    if kind not in MESSAGES:
        from flask_babel import gettext as _

        from .errors import BadRequest

        raise BadRequest(_("Unknown kind of notice '%(kind)s'.", kind=kind), field="kind")
    if MESSAGES[kind].must_know:
        return  # cannot be turned off; nothing to keep
    row = session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id, NotificationPreference.kind == kind))
    if row is None:
        row = NotificationPreference(user_id=user.id, kind=kind)
        session.add(row)
    row.mail, row.in_app = mail, in_app


# --- sending notices ----------------------------------------------------------

def recipient_locale(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    if user.locale in languages:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def site_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built from SITE_URL (no request needed:
    the tick runs from cron)."""
    from urllib.parse import urlsplit

    base = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


class _Fields(dict):
    """A field the caller did not give reads as empty: a notice with a gap
    is better than an action refused for want of one."""

    def __missing__(self, key):
        return ""


def render(user: User, kind: str, **context) -> tuple[str, str, str]:
    """(locale, subject, body) of one message for one user."""
    spec = MESSAGES[kind]
    locale = recipient_locale(user)
    with force_locale(locale):
        subject = str(spec.subject) % _Fields(context)
        body = render_template(spec.template, user=user, subject=subject, **context)
    return locale, subject.replace("\n", " ").strip()[:300], body.strip() + "\n"


def notify(session, user: User, kind: str, *, link: str = "", dedupe_key: str | None = None,
           **context) -> Notice | None:
    """Tell ``user`` about something: an in-app notice and a queued mail, in the
    user's language, as their preferences allow. With ``dedupe_key`` a second
    call for the same user and key does nothing. Never commits; the mail leaves
    after the caller's commit."""
    if kind not in MESSAGES:
        raise KeyError(f"unknown message kind {kind!r}: register it in ill.notify.MESSAGES")
    if user is None or not user.active:
        return None
    if dedupe_key is not None:
        if _dedupe_pending(session, user.id, dedupe_key):
            return None
        session.flush()
        if session.scalar(select(Notice.id).where(Notice.user_id == user.id,
                                                  Notice.dedupe_key == dedupe_key)):
            return None
    mail_on, in_app_on = preferences(session, user)[kind]
    locale, subject, body = render(user, kind, link=link, **context)
    notice = Notice(user_id=user.id, kind=kind, subject=subject, body=body, link=link,
                    in_app=in_app_on, dedupe_key=dedupe_key)
    session.add(notice)
    if mail_on and user.email:
        queue_mail(session, user.email, subject, body, locale, notice=notice, held=bool(user.mail_digest))
    return notice


def queue_mail(session, to_addr: str, subject: str, body: str, locale: str, *, notice=None,
               held: bool = False) -> OutboxMail:
    """A mail into the outbox: it leaves after the caller's commit, unless
    ``held`` for the recipient's daily digest."""
    row = OutboxMail(notice=notice, to_addr=to_addr, subject=subject, body=body, locale=locale,
                     next_attempt_at=utcnow(), held=held)
    session.add(row)
    if not held:
        outbox.queued(session, MAIL_PENDING)
    return row


def mail_only(session, user: User, kind: str, **context) -> OutboxMail:
    """A mail about the account itself (an invitation, a link to set a
    password): no notice in the app, where its owner may not get in, and
    never held for a digest. Never commits."""
    if kind not in MESSAGES or MESSAGES[kind].audience != ACCOUNT:
        raise KeyError(f"{kind!r} is not a kind of mail about an account")
    locale, subject, body = render(user, kind, **context)
    return queue_mail(session, user.email, subject, body, locale)


def _dedupe_pending(session, user_id: int, key: str) -> bool:
    return any(isinstance(o, Notice) and o.user_id == user_id and o.dedupe_key == key
               for o in session.new)


OutboxMail.notice = relationship(Notice)


def librarians_of(session, library_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.library_id == library_id, User.role == Role.LIBRARIAN.value,
        User.active.is_(True)).order_by(User.id)))


def coordinators(session) -> list[User]:
    return list(session.scalars(select(User).where(
        User.role == Role.COORDINATOR.value, User.active.is_(True)).order_by(User.id)))


def notify_library(session, library_id: int, kind: str, **kwargs) -> list[Notice]:
    """Every active librarian of a library."""
    out = [notify(session, u, kind, **kwargs) for u in librarians_of(session, library_id)]
    return [n for n in out if n is not None]


def notify_coordinators(session, kind: str, **kwargs) -> list[Notice]:
    out = [notify(session, u, kind, **kwargs) for u in coordinators(session)]
    return [n for n in out if n is not None]


# --- the in-app list ----------------------------------------------------------

def inbox(session, user: User, limit: int = 100) -> list[Notice]:
    return list(session.scalars(select(Notice).where(
        Notice.user_id == user.id, Notice.in_app.is_(True))
        .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)))


def unread_count(session, user: User) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count(Notice.id)).where(
        Notice.user_id == user.id, Notice.in_app.is_(True), Notice.read_at.is_(None))) or 0


def mark_read(session, user: User, notice_id: int | None = None) -> int:
    """One notice of the user's, or all of them; answers how many changed."""
    stmt = update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    if notice_id is not None:
        stmt = stmt.where(Notice.id == notice_id)
    return session.execute(stmt.values(read_at=utcnow())).rowcount or 0


# --- the outbox ---------------------------------------------------------------

class MailError(Exception):
    """The mail server could not take a message."""


class _SmtpBackend:
    def __init__(self, cfg):
        self.cfg = cfg
        self.conn: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage) -> None:
        try:
            if self.conn is None:
                cfg = self.cfg
                conn = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]),
                                    timeout=float(cfg.get("MAIL_TIMEOUT", 10)))
                if cfg.get("MAIL_USE_TLS"):
                    conn.starttls()
                if cfg.get("MAIL_USERNAME"):
                    conn.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
                self.conn = conn
            self.conn.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.conn = None


class _ConsoleBackend:
    def __init__(self, cfg):
        pass

    def send(self, msg: EmailMessage) -> None:
        sys.stdout.write("---- mail ----\n" + msg.as_string() + "\n---- end of mail ----\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


class _MemoryBackend:
    def __init__(self, cfg):
        self.box = current_app.extensions.setdefault("mail_outbox", [])

    def send(self, msg: EmailMessage) -> None:
        self.box.append(msg)

    def close(self) -> None:
        pass


BACKENDS = {"smtp": _SmtpBackend, "console": _ConsoleBackend, "memory": _MemoryBackend}


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 ... minutes after each failure, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts, 1), 360))


def build_message(row: OutboxMail) -> EmailMessage:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_SENDER"]
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(as_utc(row.created_at) or utcnow())
    sender_domain = cfg["MAIL_SENDER"].rsplit("@", 1)[-1].strip(" >") or "localhost"
    # One id per outbox row: a mail retried after an unclear failure is still
    # recognisable as the same message.
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain=sender_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body, charset="utf-8")
    # After set_content, which replaces every Content-* header.
    msg["Content-Language"] = row.locale
    return msg


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.sent:
            out.append(f"{self.sent} mail(s) sent")
        if self.failed:
            out.append(f"{self.failed} mail(s) failed, will retry: {'; '.join(self.errors[:3])}")
        if self.waiting:
            out.append(f"{self.waiting} mail(s) waiting for a later retry")
        return out


def flush_outbox(now: datetime | None = None, limit: int = 500) -> FlushResult:
    """Send the mails that are due. Uses its own session and commits row by row,
    so it may run after the caller's commit, from a view, the CLI or the tick."""
    cfg = current_app.config
    backend = BACKENDS.get(cfg.get("MAIL_BACKEND", "console"))
    if backend is None:
        raise ValueError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}")
    now = now or utcnow()
    result = FlushResult()
    sender = backend(cfg)
    with Session(db.engine, expire_on_commit=False) as s:
        due = list(s.scalars(select(OutboxMail.id).where(
            OutboxMail.sent_at.is_(None), OutboxMail.held.is_(False),
            or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now),
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
            .order_by(OutboxMail.id).limit(limit)))
        s.commit()
        server_down = False
        try:
            for mail_id in due:
                if server_down:
                    break
                claimed = s.execute(update(OutboxMail).where(
                    OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
                    or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
                    .values(claimed_until=now + timedelta(minutes=10),
                            attempts=OutboxMail.attempts + 1)).rowcount
                s.commit()
                if not claimed:
                    continue
                row = s.get(OutboxMail, mail_id)
                try:
                    sender.send(build_message(row))
                except MailError as exc:
                    row.last_error = str(exc)[:2000]
                    row.next_attempt_at = now + backoff(row.attempts)
                    row.claimed_until = None
                    s.commit()
                    result.failed += 1
                    result.errors.append(str(exc))
                    log.warning("mail %s to %s not sent: %s", row.id, row.to_addr, exc)
                    server_down = True
                    continue
                row.sent_at = utcnow()
                row.claimed_until = None
                row.last_error = ""
                s.commit()
                result.sent += 1
        finally:
            sender.close()
        from sqlalchemy import func

        result.waiting = s.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.sent_at.is_(None), OutboxMail.held.is_(False))) or 0
    return result


def queued(session, limit: int = 200) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.held.is_(False))
                                .order_by(OutboxMail.id).limit(limit)))


def send_digests(session, day) -> list[str]:
    """The daily tick's step: for each user who reads their mail once a day,
    the mails held since their last digest become one message, listing each
    notice's subject and link (the notices list has the whole text). The
    held mails stay, marked with the digest that carried them."""
    from collections import defaultdict

    from flask_babel import ngettext

    waiting: dict[int, list[tuple[OutboxMail, Notice]]] = defaultdict(list)
    for mail, notice in session.execute(
            select(OutboxMail, Notice).join(Notice, Notice.id == OutboxMail.notice_id)
            .where(OutboxMail.held.is_(True), OutboxMail.digest_id.is_(None), OutboxMail.sent_at.is_(None))
            .order_by(OutboxMail.id)):
        waiting[notice.user_id].append((mail, notice))
    lines = []
    for user_id, held in waiting.items():
        user = session.get(User, user_id)
        if user is None or not user.active or not user.email:
            continue  # kept until the account can be written to again
        locale = recipient_locale(user)
        with force_locale(locale):
            subject = ngettext("%(num)d notice from the interlibrary loan network",
                               "%(num)d notices from the interlibrary loan network", len(held))
            body = render_template("mail/digest.txt", user=user, day=day, held=held,
                                   inbox=site_url("notices.inbox"))
        digest = queue_mail(session, user.email, subject[:300], body.strip() + "\n", locale)
        session.flush()
        for mail, _notice in held:
            mail.digest_id = digest.id
        lines.append(f"digest of {len(held)} to {user.email}")
    return lines


def _cli(app) -> None:

    import click
    from flask.cli import AppGroup

    mail = AppGroup("mail", help="The mail outbox: what waits to be sent.")

    @mail.command("flush")
    @click.option("--all", "everything", is_flag=True,
                  help="Retry now even mails whose next attempt is later.")
    def flush(everything):
        """Send the queued mails that are due (the tick does this too)."""
        if everything:
            db.session.execute(update(OutboxMail).where(OutboxMail.sent_at.is_(None))
                               .values(next_attempt_at=utcnow()))
            db.session.commit()
        result = flush_outbox()
        for line in result.lines() or ["nothing to send"]:
            click.echo(line)
        if result.failed:
            raise SystemExit(1)

    @mail.command("queue")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
    def show(fmt):
        """List the mails not sent yet, with their attempts and last error."""
        rows = [{"id": m.id, "to": m.to_addr, "subject": m.subject, "attempts": m.attempts,
                 "next_attempt_at": as_utc(m.next_attempt_at).isoformat()
                 if m.next_attempt_at else None, "last_error": m.last_error}
                for m in queued(db.session)]
        outbox.echo_queue(rows, fmt, lambda r: f"{r['id']:>6} {r['to']:<40} {r['attempts']:>2} {r['subject']}"
                                               + (f"  [{r['last_error']}]" if r["last_error"] else ""),
                          "no mail waiting")

    app.cli.add_command(mail)


def mail_day(value) -> str:
    """A date for a mail body; anything else (a field not given) is left out."""
    from datetime import date

    from .ui import format_day

    return format_day(value) if isinstance(value, date) else ""


_listening = False


def init_app(app) -> None:
    global _listening
    app.jinja_env.filters["mail_day"] = mail_day
    if not _listening:
        outbox.send_after_commit(MAIL_PENDING, "MAIL_SEND_ON_COMMIT", flush_outbox, "mail")
        _listening = True
    from . import notice_views

    notice_views.init_app(app)
    _cli(app)

