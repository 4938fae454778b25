"""Both languages are complete: every string the code and templates show has
an Indonesian and an English translation, and the compiled catalogues work."""
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["ill", "union_catalog", "agreements"]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}


def extracted(pkg: str) -> set:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT / pkg), METHODS, keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(pkg: str, locale: str) -> dict:
    path = ROOT / pkg / "translations" / locale / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path} is missing: run scripts/messages.py"
    with path.open("rb") as fh:
        cat = read_po(fh, locale=locale)
    out = {}
    for m in cat:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        out[key] = None if (m.fuzzy or not all(strings)) else strings
    return out


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_string_is_translated(pkg, locale):
    strings = extracted(pkg)
    cat = catalog(pkg, locale)
    missing = sorted(s for s in strings if cat.get(s) is None)
    assert not missing, (f"{len(missing)} string(s) of {pkg} lack a {locale} translation "
                         f"(run scripts/messages.py, then translate): {missing[:10]}")


@pytest.mark.parametrize("pkg", PACKAGES)
def test_placeholders_survive_translation(pkg):
    import re

    field = re.compile(r"%\(\w+\)[sdif]")
    for msgid, strings in catalog(pkg, "id").items():
        if strings is None:
            continue
        assert sorted(field.findall(msgid)) == sorted(field.findall(strings[0])), msgid
