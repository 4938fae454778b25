"""Rows as people and their programs read them: a command's output
(``emit``, for every package's ``--format table|csv``), a spreadsheet
to download from a page (``spreadsheet``), and the text of a spreadsheet
uploaded as CSV (``uploaded_text``)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import click
from flask import Response


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


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell):
    """A text cell a spreadsheet program would take for a formula (a title
    from a partner's record may begin with "="), written as text instead."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(_FORMULA) else cell


def spreadsheet(rows: Iterable[Sequence], filename: str) -> Response:
    """Rows (the first its header) as a CSV attachment: UTF-8 with a byte
    order mark, so that spreadsheet programs read titles' diacritics right,
    and no cell a formula (OWASP's advice on CSV injection)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows([_inert(c) for c in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def uploaded_text(data: bytes, field: str = "file") -> str:
    """A CSV file as a spreadsheet program saves it: UTF-8 (with or without
    its byte-order mark) or Windows-1252, as older Excel does; anything else
    is refused naming ``field``."""
    from flask_babel import gettext as _

    from .errors import BadRequest

    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadRequest(_("%(field)s: the CSV is neither UTF-8 nor Windows-1252 text.", field=field), field=field)
