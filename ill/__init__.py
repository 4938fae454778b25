"""The ILL network service: application factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import jsoncodec
from .config import Defaults


class ConfigurationError(RuntimeError):
    """The service cannot start with these settings."""


def create_app(test_config: dict | None = None) -> Flask:
    # The instance folder (config.py, the SQLite file, uploads): instance/
    # in the checkout, or where ILL_INSTANCE_PATH says (a deployment's /var/lib/ill).
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("ILL_INSTANCE_PATH") or None)
    app.json = jsoncodec.ResponseJSON(app)
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ILL")
    if test_config:
        app.config.from_mapping(test_config)
    _finish_config(app)

    from . import accounts, errors, i18n, security, ui
    from .extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    from . import schema_extras

    migrations = Path(__file__).resolve().parent.parent / "migrations"
    migrate.init_app(app, db, include_object=schema_extras.include_object, directory=str(migrations))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    security.init_app(app)
    errors.register_error_handlers(app)
    accounts.init_app(app)
    i18n.init_app(app)
    ui.init_app(app)
    _install_sqlite_pragmas(app)

    _register_packages(app)
    return app


def _finish_config(app: Flask) -> None:
    cfg = app.config
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = cfg.get("DATABASE_URL") or cfg.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "ill.sqlite3")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    options = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("json_serializer", jsoncodec.dumps)
    options.setdefault("json_deserializer", jsoncodec.loads)
    if url.startswith("postgresql"):
        options.setdefault("pool_pre_ping", True)
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not cfg.get("SECRET_KEY"):
        if cfg.get("TESTING") or app.debug:
            cfg["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise ConfigurationError(
                "No secret key: set ILL_SECRET_KEY in the environment or SECRET_KEY in "
                f"{os.path.join(app.instance_path, 'config.py')}."
            )
    from babel.numbers import list_currencies

    currency = str(cfg.get("CHARGES_CURRENCY") or "").strip().upper()
    if currency not in list_currencies():
        raise ConfigurationError(
            f"CHARGES_CURRENCY: '{cfg.get('CHARGES_CURRENCY')}' is not an ISO 4217 currency code (IDR, USD, MYR ...).")
    cfg["CHARGES_CURRENCY"] = currency
    cfg["SESSION_COOKIE_SECURE"] = bool(cfg.get("HTTPS"))
    cfg["REMEMBER_COOKIE_SECURE"] = bool(cfg.get("HTTPS"))
    cfg["PREFERRED_URL_SCHEME"] = "https" if cfg.get("HTTPS") else "http"
    # Flask-Babel reads translations from every package's own folder.
    root = Path(__file__).resolve().parent.parent
    cfg["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(root / pkg / "translations") for pkg in ("ill", "union_catalog", "agreements")
    )
    # Uploads, agreement documents and delivered copies live here.
    cfg["DATA_DIR"] = cfg.get("DATA_DIR") or app.instance_path


SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def _install_sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    from .extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Pages read through memory mapping and a larger cache: an import reads
        # back thousands of records, and each page fetched by a system call
        # cost a fifth of re-clustering.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.close()


def _register_packages(app: Flask) -> None:
    """Blueprints and CLI groups of every package, in one place."""
    import agreements
    import union_catalog

    from . import (
        api,
        cli,
        delivery,
        facts_views,
        health,
        iso18626,
        loan_api,
        loan_views,
        notify,
        patron_views,
        people_views,
        routing,
        views,
    )

    views.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    union_catalog.init_app(app)
    agreements.init_app(app)
    api.init_app(app)
    app.register_blueprint(loan_views.bp)
    app.register_blueprint(loan_api.bp)
    facts_views.init_app(app)
    patron_views.init_app(app)
    people_views.init_app(app)
    notify.init_app(app)
    delivery.init_app(app)
    iso18626.init_app(app)
    # Deadlines already set follow closed days added later.
    from agreements import calendar as network_calendar

    from . import requests_service

    if requests_service.follow_calendar not in network_calendar.on_change:
        network_calendar.on_change.append(requests_service.follow_calendar)
    # The catalogue's "may I ask this library, and why not?" follows routing's rules.
    union_catalog.set_requestability_provider(
        union_catalog.from_routing(routing.requestability, routing.requestability_many)
    )
