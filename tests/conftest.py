"""Fixtures: the app on each database (SQLite and a real PostgreSQL), a test
client, a CLI runner, and builders for common rows.

Every test that takes ``app`` (or ``client``, ``runner``, ``session``) runs
twice: once on SQLite, once on PostgreSQL."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from ill import create_app
from ill.extensions import db

from . import pg

# A busy CI machine must not turn a slow example into a failure: no deadlines.
hypothesis_settings.register_profile("ill", deadline=None)
hypothesis_settings.load_profile("ill")


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, hence its own database session
    and its own ``g``, as in production; the test's own context stays apart."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _own_instance_folder(tmp_path, monkeypatch):
    """An instance folder of the test's own, never the checkout's instance/
    (where `make run` writes a config.py whose settings would leak in)."""
    monkeypatch.setenv("ILL_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or skip: the product never needs it, some tests do."""
    if not (SHARED / "bench" / "make_exports.py").exists():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def pg_server():
    server = pg.Server()
    try:
        server.start()
    except pg.NoPostgres as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}")
        pytest.skip(f"no PostgreSQL for the tests: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_database(pg_server):
    """One PostgreSQL database for the session; tables are emptied between tests."""
    name, url = pg_server.create_database()
    yield url
    pg_server.drop(name)


def _base_config(tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, at a test's cost
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "memory",
        "DATA_DIR": str(tmp_path / "data"),
        "CATALOG_RUN_JOBS_IN_PROCESS": True,
        "CATALOG_SUGGEST_WAIT": 30,  # a test's search waits for the words it may suggest
        "SERVER_NAME": None,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request):
    return request.param


@pytest.fixture
def app_config(tmp_path):
    """Extra settings for the ``app`` fixture; override in a test module."""
    return {}


_PG_READY: set[str] = set()


@pytest.fixture
def app(request, db_kind, tmp_path, app_config):
    cfg = _base_config(tmp_path)
    if db_kind == "sqlite":
        cfg["DATABASE_URL"] = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        cfg["DATABASE_URL"] = request.getfixturevalue("pg_database")
    cfg.update(app_config)
    from union_catalog import suggest

    suggest.forget()  # a vocabulary read in an earlier test, of a database now emptied
    application = create_app(cfg)
    application.test_client_class = IsolatedClient
    with application.app_context():
        if db_kind == "postgresql" and cfg["DATABASE_URL"] in _PG_READY:
            _truncate_all()
        else:
            if db_kind == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE"))
                db.session.execute(text("CREATE SCHEMA public"))
                db.session.commit()
            db.create_all()
            _create_extras()
            if db_kind == "postgresql":
                _PG_READY.add(cfg["DATABASE_URL"])
        yield application
        db.session.remove()
        db.engine.dispose()


def _create_extras():
    """Database objects that create_all does not make (search indexes...)."""
    from ill import schema_extras

    schema_extras.create_all(db.session)
    db.session.commit()


def _truncate_all():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    from ill import schema_extras

    schema_extras.empty_all(db.session)
    db.session.commit()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    from . import factories

    return factories.Factory(db.session)


@pytest.fixture(autouse=True)
def _english_command_line(monkeypatch):
    """CLI output follows the operator's locale; these tests read English."""
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
