"""``partners`` and ``agreements`` command groups."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ill import clock
from ill.errors import ServiceError
from ill.extensions import db
from ill.tables import emit

from . import partners as partner_service
from . import service as agreement_service
from .queries import status_of
from .status import STATUSES

partners = AppGroup("partners", help="The partner library directory.")


@partners.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--system", type=click.Choice(["koha", "slims", "inlislite", "other"]), default=None)
@click.option("--region", default=None)
def partners_add(code, name, system, region):
    """Add (or rename) the partner library CODE."""
    try:
        partner, created = partner_service.upsert(db.session, code, name, system=system, region=region)
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


agreements = AppGroup("agreements", help="Cooperation agreements (MoUs) between libraries.")

SERVICES = click.Choice(["loan", "copy"])


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: '{value}' is not a date (use YYYY-MM-DD).")


@agreements.command("add")
@click.argument("codes", nargs=-1, required=True)
@click.option("--start", required=True, help="First day in force, YYYY-MM-DD.")
@click.option("--end", default=None, help="Last day in force, YYYY-MM-DD.")
@click.option("--years", type=click.IntRange(min=1), default=None, help="Duration in years.")
@click.option(
    "--service",
    "services",
    multiple=True,
    type=SERVICES,
    help="A service requests may be routed under (repeat for both).",
)
@click.option("--title", default="", help="The agreement's title.")
@click.option("--number", default="", help="The agreement's number.")
def agreements_add(codes, start, end, years, services, title, number):
    """An agreement between the libraries CODE CODE..."""
    if (end is None) == (years is None):
        _fail("give either --end or --years.")
    data = {
        "parties": list(codes),
        "start_date": _day(start, "--start"),
        "services": list(services),
        "title": title,
        "number": number,
    }
    if end is not None:
        data["end_date"] = _day(end, "--end")
    else:
        data["duration_years"] = years
    try:
        agreement = agreement_service.create(db.session, data, agreement_service.Actor(label="cli"))
        day = clock.today()
        status = status_of(agreement, day)
        db.session.commit()
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(
        f"Added agreement {agreement.id}: {agreement.title} "
        f"({agreement.start_date} to {agreement.end_date or 'unknown'}), {status}"
    )


@agreements.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--party",
    default=None,
    help="Code of the library every row's agreement is with (else a 'Pihak' column names it per row).",
)
@click.option(
    "--service",
    "services",
    multiple=True,
    type=SERVICES,
    help="Services requests may be routed under (repeat for both).",
)
def agreements_import(file: Path, party, services):
    """A coordinator's spreadsheet (CSV) of agreements, one row per partner."""
    from . import sheets

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = file.read_text(encoding="cp1252")
    try:
        report = sheets.import_csv(
            db.session,
            text,
            party,
            list(services),
            agreement_service.Actor(label="cli"),
            filename=file.name,
        )
        db.session.commit()
    except ServiceError as exc:
        _fail(f"{file}: {exc.message}")
    for line in report.lines:
        click.echo(line)
    click.echo(
        f"{len(report.created)} agreements created, {len(report.partners_created)} new "
        f"partners, {report.skipped} already there, {len(report.problems)} problems"
    )


@agreements.command("list")
@click.option("--as-of", "as_of", default=None, help="The day to give statuses for (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--status", default=None, type=click.Choice(list(STATUSES)))
def agreements_list(as_of, fmt, status):
    """Every agreement with its status as of that day."""
    day = _day(as_of, "--as-of") or clock.today()
    rows = agreement_service.listing(db.session, day, status=status)
    dicts = [agreement_service.to_dict(a, day, s) for a, s in rows]
    if fmt == "json":
        click.echo(json.dumps({"as_of": day.isoformat(), "agreements": dicts}, indent=2, ensure_ascii=False))
        return
    columns = ["id", "status", "parties", "start", "end", "services", "title"]
    table = [
        [
            str(d["id"]),
            d["status"],
            " ".join(p["code"] for p in d["parties"]),
            d["start"] or "",
            d["end"] or "",
            " ".join(d["services"]),
            d["title"],
        ]
        for d in dicts
    ]
    if fmt == "table":  # people read the table: a missing date is "unknown", not a blank
        table = [[*r[:3], r[3] or "unknown", r[4] or "unknown", *r[5:]] for r in table]
    emit(columns, table, fmt)


@agreements.command("holidays")
@click.argument("year", type=int)
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", help="The language of the holidays' names.")
def agreements_holidays(year, lang):
    """Close the whole network on Indonesia's public holidays of YEAR (check
    the Islamic holidays' estimated dates; add cuti bersama on the calendar page)."""
    from . import calendar

    try:
        added, already = calendar.add_public_holidays(db.session, None, year, lang)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    for row in added:
        click.echo(f"{row.day.isoformat()}  {row.reason}")
    click.echo(f"{len(added)} closed days added, {len(already)} closed already")


def init_app(app: Flask) -> None:
    app.cli.add_command(partners)
    app.cli.add_command(agreements)
