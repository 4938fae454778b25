"""The migrations build the schema on empty SQLite and PostgreSQL databases,
and what they build is what the models say."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from ill import create_app, schema_extras
from ill.extensions import db


def _diff(app):
    with app.app_context():
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": schema_extras.include_object})
            return compare_metadata(ctx, db.metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    name, url = server.create_database()
    yield url
    server.drop(name)


def test_migrations_match_the_models(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
    assert _diff(app) == []


def test_migrations_go_down_and_up_again(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    assert _diff(app) == []
