"""Default settings. ``create_app`` layers on top of these, in order: the
instance folder's ``config.py``, ``ILL_*`` environment variables (``ILL_FOO``
sets ``FOO``; values are parsed as JSON where they can be), then a test
config. Each package prefixes its own settings (``CATALOG_*``, ``AGREEMENTS_*``,
``ILL_*`` names stay free for the environment)."""
from __future__ import annotations


class Defaults:
    # Database: a SQLite file in the instance folder unless DATABASE_URL is set.
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    SECRET_KEY: str | None = None
    DATA_DIR: str | None = None  # files kept outside the web root; default: the instance folder
    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    HTTPS = False  # true behind TLS: secure cookies, HSTS
    PROXY_FIX = 0  # number of trusted reverse proxies in front of the app
    TRUSTED_HOSTS: list[str] | None = None
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Sign-in throttling: after this many failures for one address or account
    # within the window, further attempts are refused with 429.
    # Werkzeug's scrypt; the tests lower its cost, production keeps the default.
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    # Links mailed to set a password (ill.people): an invitation to a new
    # account works this many days, a reset this many hours, and a reset is
    # mailed at most once in this many minutes.
    ACCOUNTS_INVITE_DAYS = 14
    ACCOUNTS_RESET_HOURS = 24
    ACCOUNTS_LINK_MINUTES = 10
    # A patron account deactivated this many days ago has its personal data
    # erased by the daily tick (UU PDP: kept no longer than needed); 0: never.
    ACCOUNTS_ERASE_AFTER_DAYS = 0

    # Languages
    LANGUAGES = ["id", "en"]
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"

    # Mail
    MAIL_BACKEND = "console"  # console | smtp | memory
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "ILL Network <noreply@localhost>"
    MAIL_TIMEOUT = 10  # seconds to wait for the SMTP server
    # Send mail right after the request's commit; False leaves it to the tick
    # and `flask mail flush` (for an SMTP server that may hang).
    MAIL_SEND_ON_COMMIT = True
    SITE_URL = "http://127.0.0.1:5000"

    # Union catalogue
    CATALOG_UPLOAD_MAX_BYTES = 512 * 1024 * 1024
    # The embedded default runs uploaded imports in a thread of the web process;
    # production may set False and run `flask --app ill catalog worker`.
    CATALOG_RUN_JOBS_IN_PROCESS = True
    CATALOG_UPLOAD_KEEP_DAYS = 30  # uploaded exports are deleted after this
    CATALOG_HARVEST_TIMEOUT = 120  # seconds to wait for one page of an OAI-PMH harvest
    CATALOG_HARVEST_CHECK_TIMEOUT = 15  # ... and for the check of an address as it is saved
    # An import may withdraw this share of a partner's records (and at least
    # this many) without being told it may (importer.withdrawal_limit).
    CATALOG_WITHDRAW_PERCENT = 20
    CATALOG_WITHDRAW_MIN = 50
    # Seconds a search waits for the index's words when first reading them for
    # spelling suggestions (union_catalog.suggest); later searches have them.
    CATALOG_SUGGEST_WAIT = 0.1
    # A library's copies' statuses come from its last import: older than this
    # many days, the record page says they may have changed.
    CATALOG_STALE_DAYS = 60

    # Agreements
    AGREEMENTS_WARNING_DAYS = 90
    AGREEMENTS_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
    # Days off besides weekends (ISO dates: public holidays, cuti bersama),
    # skipped when counting a lender's working days to answer.
    AGREEMENTS_HOLIDAYS: list[str] = []

    # Loans: the loan period when neither the lender nor the agreement gives one.
    LOANS_DEFAULT_LOAN_DAYS = 28
    # A loan this many days past its due date and not yet on its way back:
    # both libraries are reminded, and again every as many days.
    LOANS_OVERDUE_REMIND_DAYS = 14
    # How long a book received for a patron waits for them at the borrowing
    # library, when the library sets none (partners.pickup_days).
    LOANS_PICKUP_DAYS = 7

    # The currency of the costs agreements set and of the statement of charges
    # between libraries (ISO 4217).
    CHARGES_CURRENCY = "IDR"

    # ISO 18626 with lenders on their own system (ill/iso18626.py): seconds
    # to wait for the other system; False leaves sending to the tick.
    ISO18626_TIMEOUT = 10
    ISO18626_SEND_ON_COMMIT = True

    # Document delivery
    DELIVERY_MAX_BYTES = 50 * 1024 * 1024
    DELIVERY_EXPIRY_DAYS = 14
    DELIVERY_MAX_DOWNLOADS = 5


def setting(name: str):
    """A setting as the running application has it, or its default outside
    one (a script, a test without an app): one place for both, so that no
    caller repeats a default."""
    from flask import current_app, has_app_context

    return current_app.config[name] if has_app_context() and name in current_app.config else getattr(Defaults, name)
