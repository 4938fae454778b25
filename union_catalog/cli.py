"""``flask --app ill catalog ...``: importing partner exports, and the worker
that runs imports uploaded through the web."""
from __future__ import annotations

import json
import os
import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from ill.extensions import db

from . import jobs
from .models import ImportRun

catalog = AppGroup("catalog", help="The union catalogue: import partner exports.")


def _partner(code: str):
    from agreements.models import Partner

    partner = db.session.scalar(select(Partner).where(Partner.code == code.strip().upper()))
    if partner is None:
        click.echo(f"Error: no partner library with the code {code!r} (see 'partners add').", err=True)
        sys.exit(1)
    return partner


@catalog.command("import")
@click.option("--partner", "code", required=True, help="The partner's code, e.g. UGM.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--items", "items", type=click.Path(exists=True, dir_okay=False, readable=True),
              help="SLiMS item export (CSV) to attach to the records by title.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the import report (JSON) to this file.")
def import_command(code, file, items, report_path):
    """Import one partner's MARC export (ISO 2709, MARCXML or MARC-in-JSON).

    It replaces the partner's previous records and holdings as one unit.
    Exit 0 when the file was usable, even with defective records."""
    partner = _partner(code)
    jobs.recover_interrupted(db.session)
    db.session.commit()
    run = ImportRun(partner_id=partner.id, filename=os.path.basename(file),
                    stored_path=os.path.abspath(file), status="running",
                    items_filename=os.path.basename(items) if items else None,
                    items_stored_path=os.path.abspath(items) if items else None,
                    worker=jobs.worker_name())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    total = os.path.getsize(file)
    with click.progressbar(length=total, label=f"{partner.code} {os.path.basename(file)}",
                           file=sys.stderr, show_pos=False) as bar:
        last = [0]

        def advance(read, done, _total):
            bar.update(max(0, done - last[0]))
            last[0] = done

        run = jobs.execute(db.session, run_id, progress=advance)
    if run.status != "done":
        click.echo(f"Error: {run.failure}", err=True)
        problems = (run.report or {}).get("problems", [])
        for p in problems[:20]:
            click.echo(f"  record {p['ordinal']}: {p['defect']}", err=True)
        if report_path:  # a script reads why, as it reads a report
            _write_report(report_path, {"partner": partner.code, "file": os.path.basename(file),
                                        "failed": True, "error": run.failure, "imported": 0,
                                        "problems": problems})
        sys.exit(1)
    report = run.report
    if report_path:
        _write_report(report_path, report)
    _summary(report)


def _write_report(path: str, report: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=2)


def _summary(r: dict) -> None:
    click.echo(f"{r['partner']}: {r['file']} ({r['format']}) read {r['read']} record(s), "
               f"imported {r['imported']} ({r['inserted']} new, {r['updated']} changed, "
               f"{r['unchanged']} unchanged), withdrew {r['withdrawn']}, {r['items']} item(s), "
               f"{r['seconds']} s.")
    if r["errors"] or r["warnings"]:
        click.echo(f"{r['errors']} record(s) skipped, {r['warnings']} imported with repairs:")
        for p in r["problems"][:30]:
            cn = f" (001 {p['control_number']})" if p["control_number"] else ""
            click.echo(f"  {p['severity']:<7} record {p['ordinal']}{cn}: {p['defect']}")
        if len(r["problems"]) > 30:
            click.echo(f"  ... and {len(r['problems']) - 30} more (see --report).")
    if r.get("item_problems"):
        click.echo(f"{len(r['item_problems'])} item(s) of the item file not attached:")
        for p in r["item_problems"][:10]:
            click.echo(f"  line {p['line']} {p['barcode']}: {p['defect']} ({p['title']!r})")
    if not r.get("complete", True):
        click.echo("The file could not be read to its end: no record was withdrawn.")


@catalog.command("worker")
@click.option("--once", is_flag=True, help="Run the queued imports, then stop.")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks at the queue.")
def worker_command(once, poll):
    """Run imports uploaded through the web (for production, where the web
    workers do not run them: CATALOG_RUN_JOBS_IN_PROCESS=False)."""
    jobs.recover_interrupted(db.session)
    db.session.commit()
    while True:
        run_id = jobs.next_queued(db.session)
        db.session.rollback()
        if run_id is None:
            if once:
                return
            time.sleep(poll)
            continue
        if not jobs.claim(db.session, run_id):
            continue
        run = jobs.execute(db.session, run_id)
        click.echo(f"run {run.id} {run.partner.code} {run.filename}: {run.status}"
                   + (f" ({run.failure})" if run.failure else
                      f" read {run.read}, imported {run.imported}, withdrew {run.withdrawn}"))


def init_app(app: Flask) -> None:
    from .cluster_cli import register

    register(catalog)
    app.cli.add_command(catalog)
