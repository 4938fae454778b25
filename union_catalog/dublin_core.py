"""A Dublin Core record (OAI-PMH's ``oai_dc``) as a MARC 21 record, for
repositories that give nothing else: a university's institutional
repository (EPrints, DSpace) lists its theses in Dublin Core only, and a
harvest of it (``harvest._write_record``) brings them into the union
catalogue through this crosswalk, then the importer, as any record.

The mapping follows the Library of Congress's Dublin Core to MARC crosswalk,
kept to what the catalogue reads: title (245, further titles 246), creators
(100, then 700) and contributors (700), subjects (653, uncontrolled terms),
description (520), publisher and date (264 _1), type (655; a thesis type also
a 502 note, so that the record counts as a thesis), identifiers (020 for an
ISBN, 022 for an ISSN, 856 for a web address), language (041 and 008),
rights (540). The leader says a text, a monograph, and minimal level (7):
Dublin Core says no more, and a record converted from it is never the one
copied when a partner's MARC record describes the same edition."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import searchtext
from .headings import marc_subjects
from .matching import LANGUAGE_CODES

_THESIS = re.compile(r"\b(?:thesis|theses|skripsi|tesis|disertasi|dissertation|doctoral|masters?)\b", re.I)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
# what repositories write in dc:language besides a code (matching reads the codes)
_LANGUAGE_NAMES = {"indonesia": "ind", "indonesian": "ind", "bahasa indonesia": "ind", "english": "eng",
                   "inggris": "eng", "arabic": "ara", "arab": "ara", "malay": "msa", "javanese": "jav"}


def _language(value: str) -> str | None:
    """A MARC language code for what dc:language says: a two-letter code as
    the importer reads 041 (``matching.LANGUAGE_CODES``), a three-letter one, or a name."""
    folded = searchtext.fold(value)
    if folded in LANGUAGE_CODES:
        return LANGUAGE_CODES[folded]
    if re.fullmatch(r"[a-z]{3}", folded):
        return folded
    return _LANGUAGE_NAMES.get(folded)


def _values(dc) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for child in dc:
        name = child.tag.rsplit("}", 1)[-1]
        text = " ".join((child.text or "").split())
        if text:
            out.setdefault(name, []).append(text)
    return out


def _field(record, tag: str, ind: str, *subfields: tuple[str, str]) -> None:
    field = ET.SubElement(record, "datafield", {"tag": tag, "ind1": ind[0], "ind2": ind[1]})
    for code, value in subfields:
        ET.SubElement(field, "subfield", {"code": code}).text = value


def from_oai_dc(dc) -> ET.Element | None:
    """The MARC record (a ``record`` element of plain MARCXML names) of an
    ``oai_dc:dc`` element; None when it has no title to catalogue."""
    v = _values(dc)
    if not v.get("title"):
        return None
    record = ET.Element("record")
    ET.SubElement(record, "leader").text = "     nam a22     7i 4500"
    year = next((m.group(1) for d in v.get("date", []) if (m := _YEAR.search(d))), "")
    languages = list(dict.fromkeys(code for code in map(_language, v.get("language", [])) if code))
    # 008: 06 type of date, 07-10 the year, 35-37 the language; the rest unknown (blank)
    fixed = f"{'':6}{'s' if year else 'n'}{year or '    '}{'':24}{(languages or ['und'])[0]}{'':2}"
    ET.SubElement(record, "controlfield", {"tag": "008"}).text = fixed
    for value in v.get("identifier", []):
        compact = value.removeprefix("urn:isbn:").removeprefix("urn:issn:").strip()
        if searchtext.isbn13(compact):
            _field(record, "020", "  ", ("a", compact))
        elif searchtext.issn8(compact):
            _field(record, "022", "  ", ("a", compact))
    if languages:
        _field(record, "041", "0 ", *(("a", code) for code in languages))
    creators = v.get("creator", [])
    if creators:
        _field(record, "100", "1 ", ("a", creators[0]))
    title, *others = v["title"]
    _field(record, "245", "10" if creators else "00", ("a", title))
    for other in others:
        _field(record, "246", "33", ("a", other))
    if v.get("publisher") or year:
        _field(record, "264", " 1", *((("b", v["publisher"][0]),) if v.get("publisher") else ()),
               *((("c", year),) if year else ()))
    types = v.get("type", [])
    if any(_THESIS.search(t) for t in types):
        _field(record, "502", "  ", ("a", next(t for t in types if _THESIS.search(t))))
    for value in v.get("description", [])[:3]:
        _field(record, "520", "  ", ("a", value))
    for value in v.get("rights", [])[:1]:
        _field(record, "540", "  ", ("a", value))
    for value in v.get("subject", []):
        _field(record, "653", "  ", ("a", value))
    for value in types:
        _field(record, "655", " 7", ("a", value), ("2", "local"))
    for name in (*creators[1:], *v.get("contributor", [])):
        _field(record, "700", "1 ", ("a", name))
    for value in v.get("identifier", []):
        if value.startswith(("http://", "https://")):
            _field(record, "856", "40", ("u", value))
    return record


DC = "http://purl.org/dc/elements/1.1/"


def describe(parent, summary: dict, record) -> None:
    """A union record in Dublin Core, as elements under ``parent`` (SRU's
    srw_dc:dc, OAI-PMH's oai_dc:dc): the union record's description
    (``summary``: title, author, publisher, year, format, isbn, issn,
    language) and the subjects of the record a library would copy
    (``record``, pymarc)."""
    def add(tag: str, value) -> None:
        ET.SubElement(parent, f"{{{DC}}}{tag}").text = str(value)

    add("title", summary["title"])
    if summary.get("author"):
        add("creator", summary["author"])
    for subject in dict.fromkeys(marc_subjects(record.as_dict())):
        add("subject", subject)
    if summary.get("publisher"):
        add("publisher", summary["publisher"])
    if summary.get("year"):
        add("date", summary["year"])
    if summary.get("format"):
        add("type", summary["format"])
    for isbn in summary.get("isbn") or ():
        add("identifier", f"urn:isbn:{isbn}")
    for issn in summary.get("issn") or ():
        add("identifier", f"urn:issn:{issn}")
    if summary.get("language"):
        add("language", summary["language"])
