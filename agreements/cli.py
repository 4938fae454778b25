"""``partners`` and ``agreements`` command groups."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ill.errors import ServiceError
from ill.extensions import db

from . import partners as partner_service

partners = AppGroup("partners", help="The partner library directory.")


@partners.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--system", type=click.Choice(["koha", "slims", "inlislite", "other"]), default=None)
@click.option("--region", default=None)
def partners_add(code, name, system, region):
    """Add (or rename) the partner library CODE."""
    try:
        partner, created = partner_service.upsert(
            db.session, code, name, system=system, region=region
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"{'Added' if created else 'Updated'} {partner.code}: {partner.name}")


@partners.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def partners_load(file: Path):
    """Add or update partners from a CSV with at least the columns code,name."""
    try:
        lines = partner_service.load_csv(db.session, file.read_text(encoding="utf-8-sig"))
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {file}: {exc.message}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(partners)
