"""``flask --app ill catalog reindex``: rebuild the search index from the
catalogue, for disaster recovery only (imports keep the index current)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from ill.extensions import db


@click.command("reindex")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_appcontext
def reindex(fmt):
    """Rebuild the search index of every union record (imports keep it current;
    this is for recovery)."""
    from .search import reindex_all

    count = reindex_all(db.session)
    db.session.commit()
    if fmt == "json":
        click.echo(json.dumps({"indexed": count}))
    else:
        click.echo(f"Indexed {count} union records.")


def init_app(app: Flask) -> None:
    # The catalogue's group may be made by another module (the importer's
    # commands); join it rather than replace it.
    group = app.cli.commands.get("catalog")
    if group is None:
        group = AppGroup("catalog", help="The union catalogue: imports, clusters, search index.")
        app.cli.add_command(group)
    group.add_command(reindex)
