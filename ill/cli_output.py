"""Rows printed by a command, as people read them or as scripts do: one
helper for every package's ``--format table|csv``."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import click


def emit(columns: Sequence[str], rows: Sequence[Sequence], fmt: str = "table") -> None:
    """Print rows under their column names: CSV (one header line, "\\n" line
    ends), or a table of columns padded to their widest cell."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
        return
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    for line in [list(columns), *cells]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
