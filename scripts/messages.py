#!/usr/bin/env python3
"""Keep every package's translation catalogues in step with the code.

    python scripts/messages.py            extract, update id and en, fill en, compile
    python scripts/messages.py --compile  compile only (what the install runs)

English is the source language: its catalogue is filled from the msgids.
Indonesian needs a person: the script lists the entries still untranslated.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ill", "union_catalog", "agreements")
LOCALES = ("id", "en")
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "N_"]


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def po_path(pkg: str, locale: str) -> Path:
    return ROOT / pkg / "translations" / locale / "LC_MESSAGES" / "messages.po"


def update(pkg: str) -> list[str]:
    tdir = ROOT / pkg / "translations"
    tdir.mkdir(parents=True, exist_ok=True)
    pot = tdir / "messages.pot"
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "--sort-output",
            "--omit-header", "-o", str(pot), pkg)
    for locale in LOCALES:
        if po_path(pkg, locale).exists():
            pybabel("update", "-i", str(pot), "-d", str(tdir), "-l", locale, "--no-fuzzy-matching",
                    "--ignore-obsolete", "--omit-header")
        else:
            pybabel("init", "-i", str(pot), "-d", str(tdir), "-l", locale)
    pot.unlink()
    fill_english(po_path(pkg, "en"))
    return missing(po_path(pkg, "id"))


def fill_english(path: Path) -> None:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, include_previous=False,
                 width=100)


def missing(path: Path) -> list[str]:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="id")
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def compile_all() -> None:
    for pkg in PACKAGES:
        for locale in LOCALES:
            path = po_path(pkg, locale)
            if not path.exists():
                continue
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            with path.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog)


def main() -> int:
    if "--compile" not in sys.argv:
        for pkg in PACKAGES:
            todo = update(pkg)
            for msgid in todo:
                print(f"{pkg}: Indonesian missing: {msgid!r}")
    compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
