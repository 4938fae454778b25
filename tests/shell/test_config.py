"""Settings: instance folder, ILL_* environment, a secret key required."""
import pytest

from ill import ConfigurationError, create_app

# (Each test has an instance folder of its own: see tests/conftest.py.)


def test_missing_secret_key_is_an_error_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("ILL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ILL_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_the_instance_folder_can_be_elsewhere(tmp_path, monkeypatch):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "config.py").write_text("SECRET_KEY = 'from-the-instance-folder'\n")
    monkeypatch.setenv("ILL_INSTANCE_PATH", str(folder))
    monkeypatch.delenv("ILL_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.instance_path == str(folder)
    assert app.config["SECRET_KEY"] == "from-the-instance-folder"


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("ILL_SECRET_KEY", "from-env")
    monkeypatch.setenv("ILL_DATABASE_URL", "postgresql://u@db.example/ill")
    monkeypatch.setenv("ILL_MAIL_PORT", "2525")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/ill"
    assert app.config["MAIL_PORT"] == 2525


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ILL_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("ill.sqlite3")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    from sqlalchemy import text

    from ill.extensions import db

    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/w.db"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
