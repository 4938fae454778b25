"""The staff reports from the command line, for coordinators' scripts and
cron: ``catalog overlap``, ``catalog last-copies`` and ``catalog quality``
(the same figures as the pages and the API, ``union_catalog.overlap`` and
``union_catalog.quality``)."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ill.extensions import db
from ill.tables import emit

from . import overlap, quality

OUTPUT = click.Choice(["table", "json", "csv"])


def _partner(code: str):
    from agreements import partners as partner_service

    partner = partner_service.by_code(db.session, code)
    if partner is None:
        raise click.BadParameter(f"no partner library with the code {code}", param_hint="--partner")
    return partner


def _only(value: str | None) -> str:
    from .models import FORMATS

    value = (value or "").strip().lower()
    if value and value not in FORMATS:
        raise click.BadParameter(f"'{value}' is not a format: one of {', '.join(FORMATS)}", param_hint="--only")
    return value


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@click.command("overlap")
@click.option("--only", "only_format", default=None, help="Only union records of this format (book, thesis...).")
@click.option("--format", "fmt", type=OUTPUT, default="table")
@with_appcontext
def overlap_command(only_format, fmt):
    """Collection overlap: each library's editions, how many it alone holds
    and how many 2, 3, 4, 5+ libraries hold."""
    found = overlap.collection_overlap(db.session, _only(only_format))
    if fmt == "json":
        codes = found.codes
        click.echo(json.dumps({"format": found.format or None, "editions": found.editions, "unique": found.unique,
                               "libraries": [r.to_dict(codes) for r in found.libraries]},
                              indent=2, ensure_ascii=False))
        return
    emit(["library", "held", "unique", "unique_share", "in_2", "in_3", "in_4", "in_5_or_more"],
          [[r.code, r.held, r.unique, _share(r.unique_share),
            *(r.by_holders[n] for n in range(2, overlap.MOST_HOLDERS + 1))] for r in found.libraries], fmt)


@click.command("last-copies")
@click.option("--partner", "code", required=True, help="The library whose last copies to list.")
@click.option("--only", "only_format", default=None, help="Only union records of this format.")
@with_appcontext
def last_copies_command(code, only_format):
    """The union records this library alone holds, as CSV, with its call numbers."""
    rows = overlap.last_copies(db.session, _partner(code).id, _only(only_format))
    emit(overlap.LastCopy.COLUMNS, [r.cells() for r in rows], "csv")


@click.command("quality")
@click.option("--partner", "code", default=None, help="One library (all without it).")
@click.option("--lacking", "check_key", default=None, type=click.Choice(list(quality.CHECK_KEYS)),
              help="With --partner: list, as CSV, that library's records failing this check.")
@click.option("--format", "fmt", type=OUTPUT, default="table")
@with_appcontext
def quality_command(code, check_key, fmt):
    """Catalogue quality: what each library's records lack that the union
    catalogue needs (records lacking each check, of those it concerns)."""
    partner = _partner(code) if code else None
    if check_key:
        if partner is None:
            raise click.UsageError("--lacking lists one library's records: name it with --partner.")
        rows = quality.lacking(db.session, partner.id, quality.CHECK_KEYS[check_key])
        emit(quality.Lacking.COLUMNS, [r.cells() for r in rows], "csv")
        return
    found = quality.catalogue_quality(db.session, [partner.id] if partner else None)
    if fmt == "json":
        click.echo(json.dumps({"libraries": [r.to_dict() for r in found]}, indent=2, ensure_ascii=False))
        return
    keys = [c.key for c in quality.CHECKS]
    if fmt == "csv":
        emit(["library", "records"] + [f"{k}_{part}" for k in keys for part in ("lacking", "concerned")],
              [[r.code, r.records] + [n for k in keys for n in (r.checks[k].lacking, r.checks[k].concerned)]
               for r in found], "csv")
        return
    emit(["library", "records", *keys],
          [[r.code, r.records, *(f"{r.checks[k].lacking}/{r.checks[k].concerned}" for k in keys)] for r in found],
          "table")


def register(group) -> None:
    """Add the reports to the ``catalog`` group (union_catalog.cli)."""
    for command in (overlap_command, last_copies_command, quality_command):
        group.add_command(command)
