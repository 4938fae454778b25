"""Partner libraries and their cooperation agreements (MoUs)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    cli.init_app(app)
