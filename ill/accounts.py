"""Users, roles, sign-in, API tokens and the permission helpers every package
uses. Patrons and librarians belong to one partner library; coordinators
oversee the whole network; admins manage users."""
from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import wraps

from flask import Flask, g, request
from flask_babel import gettext as _
from flask_login import UserMixin, current_user
from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, false, func, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import utcnow
from .errors import BadRequest, Forbidden, NotSignedIn, TooManyRequests
from .extensions import db, login_manager


class Role(enum.StrEnum):
    PATRON = "patron"
    LIBRARIAN = "librarian"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


ROLES_WITH_LIBRARY = {Role.PATRON, Role.LIBRARIAN}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_library_card", "library_id", "card_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    # Mail once a day, every notice of the day in one message (notify.send_digests).
    mail_digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The number on the patron's library card (a student's NIM): typed or
    # scanned at the desk to find them; one per library (ill.people).
    card_number: Mapped[str] = mapped_column(String(50), default="", server_default="")
    # When its personal data was erased (ill.people.erase): the account stays, anonymous and closed.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a link to set the password was last mailed (ill.people): resets are spaced.
    password_link_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of the session identity: rotating it ends every open session.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    library = relationship("Partner", foreign_keys=[library_id])
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        if not password or len(password) < 8:
            raise BadRequest(_("A password needs at least 8 characters."), field="password")
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.end_sessions()

    def set_new_password(self, password: str, again: str) -> None:
        """A password chosen by its owner, typed twice (the account page, a
        mailed link): refused, naming why, when the two differ or it is short."""
        if password != again:
            raise BadRequest(_("The two new passwords differ."), field="confirm_password")
        self.set_password(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        self.session_nonce = secrets.token_hex(16)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")


class AccountChange(db.Model):
    """Who did what to an account and when (ill.people): added, invited, a
    link to set the password mailed, deactivated, activated, changed (before
    and after of each field), its password set by link, its personal data
    erased. Erasing an account empties the before and after of its changes."""

    __tablename__ = "account_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")  # e-mail, "cli" or "self"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class LoginFailure(db.Model):
    """One failed sign-in, for throttling guessing across workers."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


# --- services -------------------------------------------------------------

def _hash_token(token: str) -> str:
    # Tokens are 256 random bits: a plain digest is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hold(session, user_id: int) -> None:
    """Makes the user's other transactions that call this wait until this
    one ends, so that what it reads next (how many requests they have open,
    whether one for the same record is) is still true when it writes. Two
    requests sent at the same instant (a double click) are then weighed one
    after the other. PostgreSQL locks the user's row; SQLite, which has one
    writer, takes the writer's lock at once (BEGIN IMMEDIATE) unless this
    transaction has written already and so holds it."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(select(User.id).where(User.id == user_id).with_for_update())
        return
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def card_key(text) -> str:
    """A library card's number as it is compared: without spaces, in lower
    case ("0401 2012 34" scanned or typed is the card 0401201234)."""
    return "".join(str(text or "").split()).lower()


def card_is(text):
    """The SQL condition: the user's library card has this number (``card_key``)."""
    key = card_key(text)
    return func.lower(User.card_number) == key if key else false()


def find_user(session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(session, email: str, password: str | None, role: str, library=None, name: str = "",
                locale: str | None = None) -> User:
    """A new account; ``password`` empty or None: none yet (its owner sets
    one through a link, ``ill.people``), and nobody can sign in with it."""
    email = normalise_email(email)
    if "@" not in email:
        raise BadRequest(_("'%(email)s' is not an e-mail address.", email=email), field="email")
    try:
        role = Role(role)
    except ValueError:
        raise BadRequest(_("Unknown role '%(role)s'.", role=role), field="role")
    if role in ROLES_WITH_LIBRARY and library is None:
        raise BadRequest(_("A %(role)s belongs to one library: name it.", role=role), field="library")
    if find_user(session, email):
        raise BadRequest(_("A user with the e-mail %(email)s exists already.", email=email), field="email")
    if len(email) > 254 or any(c.isspace() for c in email) or email.count("@") != 1:
        raise BadRequest(_("'%(email)s' is not an e-mail address.", email=email[:100]), field="email")
    user = User(email=email, name=name or email.split("@")[0], role=role.value,
                library=library if role in ROLES_WITH_LIBRARY else library, locale=locale, password_hash="")
    if password:
        user.set_password(password)
    session.add(user)
    return user


def issue_token(session, user: User, label: str = "") -> str:
    token = "ill_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_hash_token(token), label=label))
    return token


def revoke_tokens(session, user: User) -> int:
    count = 0
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            count += 1
    return count


# How exactly a token's last use is kept: to the minute. A script calling
# the API many times a second would otherwise write (and, on SQLite, lock the
# database) on every call, for a time nobody reads closer than that.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def user_for_token(session, token: str, now: datetime | None = None) -> tuple[User | None, bool]:
    """The user a token speaks for (None: unknown, revoked or inactive), and
    whether its last use was moved forward (the caller commits it)."""
    # the token and its user in one statement: every API call asks
    row = session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                         .where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None, False
    now = now or utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)  # SQLite gives it back without its zone
    if last is not None and now - last < TOKEN_USE_RESOLUTION:
        return row.user, False
    row.last_used_at = now
    return row.user, True


def check_throttle(session, email: str, address: str, now: datetime | None = None) -> None:
    from flask import current_app

    now = now or utcnow()
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = now - window
    by_email = session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.email == normalise_email(email), LoginFailure.at >= since))
    by_address = session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.address == address, LoginFailure.at >= since))
    if by_email >= limit or by_address >= limit * 4:
        raise TooManyRequests(
            _("Too many failed sign-ins. Please wait %(minutes)d minutes and try again.",
              minutes=int(window.total_seconds() // 60)),
            details={"retry_after": int(window.total_seconds())})


def record_failure(session, email: str, address: str) -> None:
    session.add(LoginFailure(email=normalise_email(email)[:254], address=address[:64]))


def authenticate(session, email: str, password: str, address: str) -> User | None:
    """The user for these credentials, or None. Raises TooManyRequests while throttled."""
    check_throttle(session, email, address)
    user = find_user(session, email)
    if user is None or not user.active or not user.check_password(password):
        record_failure(session, email, address)
        return None
    return user


# --- permission helpers -----------------------------------------------------

def current() -> User:
    """The signed-in user, or NotSignedIn."""
    if not current_user.is_authenticated:
        raise NotSignedIn(_("Please sign in first."))
    return current_user._get_current_object()


def require_role(*roles: str) -> User:
    user = current()
    if user.role not in roles:
        raise Forbidden(_("This needs the role: %(roles)s.", roles=", ".join(roles)))
    return user


def roles_required(*roles: str):
    """Decorator for views and API endpoints."""

    def deco(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            require_role(*roles)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def login_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        current()
        return fn(*args, **kwargs)

    return wrapper


def require_library_staff(library_id: int | None) -> User:
    """A librarian of that library, or a coordinator/admin of the network."""
    user = current()
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return user
    if user.role == Role.LIBRARIAN and library_id is not None and user.library_id == library_id:
        return user
    raise Forbidden(_("Only that library's librarians or a coordinator may do this."))


# --- wiring ----------------------------------------------------------------

def init_app(app: Flask) -> None:
    login_manager.login_view = "views.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load(ident: str):
        try:
            user_id, nonce = ident.split(":", 1)
            user = db.session.get(User, int(user_id))
        except (ValueError, TypeError):
            return None
        if user is None or not user.active or user.session_nonce != nonce:
            return None
        return user

    @app.before_request
    def _bearer_token():
        """A script's token speaks for the call, whatever cookie the client
        also holds. The one place where a Bearer header signs a user in."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return
        from flask_login import AnonymousUserMixin

        user, used = user_for_token(db.session, header[7:].strip())
        g._login_user = user if user is not None else AnonymousUserMixin()
        g.auth_via_token = user is not None
        if used:
            db.session.commit()  # last_used_at

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import redirect, url_for

        from .errors import wants_json

        if wants_json():
            raise NotSignedIn(_("Please sign in first."))
        return redirect(url_for("views.login", next=request.full_path.rstrip("?")))

    @app.context_processor
    def _roles():
        return {"Role": Role}


def client_address() -> str:
    return request.remote_addr or "unknown"


__all__ = ["User", "ApiToken", "Role", "create_user", "issue_token", "revoke_tokens",
           "authenticate", "current", "require_role", "roles_required", "login_required",
           "require_library_staff", "utcnow"]
