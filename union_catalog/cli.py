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
from flask_babel import gettext as _
from sqlalchemy import select

from ill.errors import ServiceError
from ill.extensions import db

from . import importer, jobs
from .models import ImportRun

catalog = AppGroup("catalog", help="The union catalogue: import partner exports, harvest over OAI-PMH.")


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
@click.option("--allow-withdrawals", is_flag=True,
              help="Withdraw the records missing from the export however many they are "
                   "(otherwise an import that would withdraw a large part of them stops).")
@click.option("--check", "check_only", is_flag=True,
              help="Work out and report what the import would do, and change nothing.")
def import_command(code, file, items, report_path, allow_withdrawals, check_only):
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
                    worker=jobs.worker_name(), allow_withdrawals=allow_withdrawals,
                    check_only=check_only)
    db.session.add(run)
    db.session.commit()
    total = os.path.getsize(file)
    _run(partner, run.id, os.path.basename(file), report_path, total)


@catalog.command("statuses")
@click.option("--partner", "code", required=True, help="The library whose copies these are.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def statuses_command(code, file, fmt):
    """Apply copies' statuses that changed since the last export (CSV with a
    barcode and a status column, or JSON {"items": [{"barcode", "status"}]}).
    Exit 0 when the file was read, even with lines not applied."""
    from . import statuses

    partner = _partner(code)
    with open(file, "rb") as fh:
        data = fh.read()
    try:
        report = statuses.apply(db.session, partner, statuses.read(data))  # CSV or JSON, as it reads
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Nothing was changed: {exc.message}", err=True)
        sys.exit(1)
    db.session.commit()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(statuses.summary_text(report))
    for problem in report["problems"]:
        click.echo(f"  {statuses.problem_text(problem)}")


def _run(partner, run_id: int, label: str, report_path: str | None, total: int | None = None) -> None:
    """Run one import (of a file, or harvest then import), with a progress
    bar, then say what it did; exit 1 when it failed."""
    with click.progressbar(length=total or 0, label=f"{partner.code} {label}", file=sys.stderr,
                           show_pos=total is None) as bar:
        last = [0]

        def advance(read, done, _total):
            if total is None:  # harvesting: records so far, the file's size unknown
                bar.update(max(0, read - last[0]))
                last[0] = read
                return
            bar.update(max(0, done - last[0]))
            last[0] = done

        run = jobs.execute(db.session, run_id, progress=advance)
    if run.status not in ("done", "checked"):
        click.echo(_("Error: %(failure)s", failure=jobs.failure_text(run)), err=True)
        if jobs.failure_kind(run) == "too_many_withdrawals":
            shown = (run.report or {}).get("withdrawn_records", [])
            if shown:
                click.echo(_("The first of them:"), err=True)
            for r in shown[:10]:
                click.echo(f"  {r['control_number'] or r['key']}  {r['title'][:70]}", err=True)
            click.echo(_("To withdraw them, run the command again with --allow-withdrawals."), err=True)
        problems = (run.report or {}).get("problems", [])
        for p in problems[:20]:
            click.echo("  " + _("record %(ordinal)s: %(defect)s", ordinal=p["ordinal"],
                                defect=importer.defect_text(p)), err=True)
        if report_path:  # a script reads why, as it reads a report
            _write_report(report_path, {"partner": partner.code, "file": label,
                                        "failed": True, "error": run.failure, "imported": 0,
                                        "problems": problems})
        sys.exit(1)
    report = run.report
    if report_path:
        _write_report(report_path, {**report, "checked_only": True} if run.status == "checked" else report)
    if run.status == "checked":
        click.echo(_("Checked only: nothing was changed. Imported, the file would give:"))
    _summary(report)


@catalog.command("harvest")
@click.option("--partner", "code", help="The partner's code, e.g. UINSU.")
@click.option("--url", help="The OAI-PMH base URL (default: the partner's, as set on the imports page).")
@click.option("--prefix", help="The metadataPrefix of its MARC records (default marc21).")
@click.option("--set", "set_spec", help="Harvest this set only.")
@click.option("--due", is_flag=True, help="Harvest every partner whose harvest is due (for a daily cron job).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the import report (JSON) to this file.")
@click.option("--allow-withdrawals", is_flag=True,
              help="Withdraw the records the repository no longer gives however many they are.")
@click.option("--full", is_flag=True, help="A full harvest, even where the partner's are incremental.")
def harvest_command(code, url, prefix, set_spec, due, report_path, allow_withdrawals, full):
    """Harvest a partner's catalogue over OAI-PMH and import it.

    A full harvest is imported as an export is: it replaces the partner's
    previous records and holdings as one unit, and a record the repository
    no longer gives is withdrawn. Where the partner's source is set to
    harvest only what changed (and the repository keeps its deletions), an
    incremental one imports the changes and withdraws the records listed as
    deleted. Exit 0 when it was imported."""
    from ill.accounts import utcnow

    from . import harvest as harvesting

    jobs.recover_interrupted(db.session)
    db.session.commit()
    if due:
        if code or url:
            raise click.UsageError("--due harvests every partner that is due: give no --partner or --url.")
        failed = 0
        for source in harvesting.due(db.session, utcnow()):
            run = harvesting.queue_source(db.session, source, status="running")
            run.worker = jobs.worker_name()
            db.session.commit()
            run = jobs.execute(db.session, run.id)
            failed += run.status != "done"
            if run.status != "done":  # no one watches a cron job's page
                harvesting.tell_failure(db.session, run)
                db.session.commit()
            click.echo(f"{run.partner.code} {run.filename}: {run.status}"
                       + (f" ({jobs.failure_text(run)})" if run.status != "done" else
                          f" read {run.read}, imported {run.imported}, withdrew {run.withdrawn}"))
        sys.exit(1 if failed else 0)
    if not code:
        raise click.UsageError("Give --partner CODE (or --due).")
    partner = _partner(code)
    source = harvesting.source_of(db.session, partner.id)
    if not url and source is None:
        click.echo(_("Error: %(code)s has no OAI-PMH address: give --url, or set it on the imports "
                     "page.", code=partner.code), err=True)
        sys.exit(1)
    saved = source if not url else None  # a URL given names a repository of its own
    try:
        if saved is not None and prefix is None and set_spec is None:  # the source as it is set
            run = harvesting.queue_source(db.session, saved, status="running", full=full)
        else:
            run = harvesting.queue(
                db.session, partner, url=url or source.url,
                prefix=prefix if prefix is not None else (saved.metadata_prefix if saved else ""),
                set_spec=set_spec if set_spec is not None else (saved.set_spec if saved else ""),
                status="running")
        run.allow_withdrawals = allow_withdrawals
    except harvesting.HarvestError as exc:
        click.echo(_("Error: %(failure)s", failure=exc.localized()),
                   err=True)
        sys.exit(1)
    run.worker = jobs.worker_name()
    db.session.commit()
    _run(partner, run.id, run.filename, report_path)


def _write_report(path: str, report: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=2)


def _summary(r: dict) -> None:
    """What the import did, in the operator's language (the report, for
    scripts, stays English)."""
    click.echo(_("%(partner)s: %(file)s (%(format)s) read %(read)s record(s), imported %(imported)s "
                 "(%(inserted)s new, %(updated)s changed, %(unchanged)s unchanged), withdrew "
                 "%(withdrawn)s, %(items)s item(s), %(seconds)s s.",
                 **{k: r[k] for k in ("partner", "file", "format", "read", "imported", "inserted",
                                      "updated", "unchanged", "withdrawn", "items", "seconds")}))
    if r["errors"] or r["warnings"]:
        click.echo(_("%(errors)s record(s) skipped, %(warnings)s imported with repairs:",
                     errors=r["errors"], warnings=r["warnings"]))
        severities = {"error": _("error"), "warning": _("warning")}
        width = max(len(w) for w in severities.values())
        for p in r["problems"][:30]:
            cn = f" (001 {p['control_number']})" if p["control_number"] else ""
            severity = severities.get(p["severity"], p["severity"])
            click.echo(f"  {severity:<{width}} " + _("record %(ordinal)s%(control)s: %(defect)s",
                                                      ordinal=p["ordinal"], control=cn,
                                                      defect=importer.defect_text(p)))
        if len(r["problems"]) > 30:
            click.echo("  " + _("... and %(n)s more (see --report).", n=len(r["problems"]) - 30))
    if r.get("item_problems"):
        click.echo(_("%(n)s item(s) of the item file not attached:", n=len(r["item_problems"])))
        for p in r["item_problems"][:10]:
            click.echo("  " + _("line %(line)s %(barcode)s: %(defect)s (%(title)s)", line=p["line"],
                                barcode=p["barcode"], defect=importer.defect_text(p),
                                title=repr(p["title"])))
    if r.get("duplicate_barcodes"):
        click.echo(_("%(n)s barcode(s) on more than one item (imported as they are):",
                     n=r["duplicate_barcodes_total"]))
        for d in r["duplicate_barcodes"][:10]:
            records = ", ".join(f"{c['ordinal']}" + (f" (001 {c['control_number']})" if c["control_number"] else "")
                                for c in d["records"])
            click.echo("  " + _("%(barcode)s: records %(records)s", barcode=d["barcode"], records=records))
    if not r.get("complete", True):
        click.echo(_("The file could not be read to its end: no record was withdrawn."))
    h = r.get("harvest")
    if h:
        click.echo(_("Harvested %(records)s record(s) in %(pages)s page(s) from %(url)s; %(deleted)s "
                     "listed as deleted, %(other)s in another format (not imported).",
                     records=h["records"], pages=h["pages"], url=h["url"], deleted=h["deleted"],
                     other=h["not_marc"]))


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
    from . import cluster_cli, report_cli

    cluster_cli.register(catalog)
    report_cli.register(catalog)
    app.cli.add_command(catalog)
