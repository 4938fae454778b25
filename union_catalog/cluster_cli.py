"""``flask --app ill catalog clusters`` and ``catalog recluster``: the union
records as a CSV for scripts, and a full re-clustering after the rules change."""
from __future__ import annotations

import csv
import sys

import click
from sqlalchemy import select

from ill.extensions import db

from . import clustering
from .models import SourceRecord


@click.command("clusters")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              default="-", show_default=True, help="Where to write the CSV ('-': standard output).")
def clusters_command(out):
    """One row per imported record: partner,control_number,ordinal,cluster_id.

    control_number is the record's 001 (empty when it has none); ordinal its
    1-based position in the file it came from. Withdrawn records are left out."""
    from agreements.models import Partner

    query = (select(Partner.code, SourceRecord.control_number, SourceRecord.ordinal,
                    SourceRecord.cluster_id)
             .join(Partner, Partner.id == SourceRecord.partner_id)
             .where(SourceRecord.withdrawn_at.is_(None))
             .order_by(Partner.code, SourceRecord.ordinal, SourceRecord.id))
    fh = sys.stdout if out == "-" else open(out, "w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["partner", "control_number", "ordinal", "cluster_id"])
        n = 0
        for code, control, ordinal, cluster_id in db.session.execute(
                query.execution_options(yield_per=5000)):
            writer.writerow([code, control or "", ordinal,
                             "" if cluster_id is None else cluster_id])
            n += 1
    finally:
        if fh is not sys.stdout:
            fh.close()
    if out != "-":
        click.echo(f"{n} record(s) written to {out}.", err=True)


@click.command("recluster")
@click.option("--refresh", is_flag=True,
              help="Describe every record again from its stored MARC first.")
def recluster_command(refresh):
    """Re-cluster the whole catalogue (after the matching rules changed).
    Union record ids stay where the clusters did not change."""
    info = clustering.recluster_all(db.session, refresh=refresh)
    db.session.commit()
    if refresh:
        click.echo(f"{info['refreshed']} record(s) described anew.")
    click.echo(f"{info['scope']} record(s) in {info['groups']} union record(s): "
               f"{info['new_clusters']} new, {info['merged_clusters']} merged, "
               f"{info['records_moved']} record(s) moved, {info['cluster_seconds']} s.")
    click.echo(f"Search index brought up to date for {len(info['clusters'])} union record(s) "
               f"({info['reindexed']} searchable).")


def register(group) -> None:
    """Add the commands to the ``catalog`` click group."""
    group.add_command(clusters_command)
    group.add_command(recluster_command)
