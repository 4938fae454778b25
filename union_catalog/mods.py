"""A MARC 21 record as MODS 3.7 (Metadata Object Description Schema), for
SRU clients that ask for it: SLiMS's "Z39.50 SRU" copy cataloguing takes
MODS only.

The mapping follows the Library of Congress's MARC-to-MODS mapping for the
elements a catalogue copies: title (245), names (1XX main, 7XX added, by
kind), type of resource (leader/06), publication (260/264, 250; issuance
from leader/07), language (041, else 008/35-37), physical description
(300), the first general note (500), subjects (600/610/611/650/651, with
their subdivisions), classification (082, 050), identifiers (020, 022) and
the record's own number (001). ISBD punctuation ending a subfield is left
out, as MODS wants its values bare."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pymarc

from .matching import NAME_TAGS, strip_isbd
from .xmltree import child

NS = "http://www.loc.gov/mods/v3"
SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"

# leader/06 -> typeOfResource (and whether a manuscript)
_RESOURCE = {"a": "text", "t": "text", "e": "cartographic", "f": "cartographic", "c": "notated music",
             "d": "notated music", "i": "sound recording-nonmusical", "j": "sound recording-musical",
             "k": "still image", "g": "moving image", "m": "software, multimedia", "o": "mixed material",
             "p": "mixed material", "r": "three dimensional object"}
_MANUSCRIPT = {"t", "d", "f"}
_NAME_TYPES = {"100": "personal", "700": "personal", "110": "corporate", "710": "corporate",
               "111": "conference", "711": "conference"}
_SUBJECT_AUTHORITY = {"0": "lcsh", "1": "lcshac", "2": "mesh", "3": "nal", "5": "csh", "6": "rvm"}


def _clean(value: str | None) -> str:
    return strip_isbd(value or "").strip()


def _values(field, codes: str) -> list[str]:
    return [_clean(s.value) for s in field.subfields if s.code in codes and _clean(s.value)]


def from_marc(record: pymarc.Record):
    """The record as a MODS element, ready to serialise (in the MODS namespace, unprefixed)."""
    # plain names under an xmlns attribute, as pymarc builds MARCXML: written
    # out, the record's namespace is its default one (no prefix), which
    # ElementTree will not write for namespaced names with plain attributes
    mods = ET.Element("mods", {"xmlns": NS, "version": "3.7"})
    leader = str(record.leader or "").ljust(24)
    f245 = record.get("245")
    if f245 is not None:
        title = child(mods, "titleInfo")
        child(title, "title", " ".join(_values(f245, "a")) or "[untitled]")
        for code, name in (("b", "subTitle"), ("n", "partNumber"), ("p", "partName")):
            for value in _values(f245, code):
                child(title, name, value)
    for tag in NAME_TAGS:
        for f in record.get_fields(tag):
            parts = _values(f, "a")
            if not parts:
                continue
            name = child(mods, "name", type=_NAME_TYPES[tag], usage="primary" if tag[0] == "1" else "")
            child(name, "namePart", parts[0])
            for date in _values(f, "d"):
                child(name, "namePart", date, type="date")
            role = child(name, "role")
            relator = (_values(f, "e") or ["creator" if tag[0] == "1" else "contributor"])[0]
            child(role, "roleTerm", relator, type="text", authority="marcrelator")
    resource = _RESOURCE.get(leader[6])
    if resource:
        child(mods, "typeOfResource", resource, manuscript="yes" if leader[6] in _MANUSCRIPT else "")
    _origin(mods, record, leader)
    _language(mods, record)
    extent = [" ".join(_values(f, "abc")) for f in record.get_fields("300")]
    if any(extent):
        physical = child(mods, "physicalDescription")
        for value in extent:
            if value:
                child(physical, "extent", value)
    for f in record.get_fields("500")[:1]:
        for value in _values(f, "a"):
            child(mods, "note", value)
    for tag, kind in (("600", "name"), ("610", "name"), ("611", "name"), ("650", "topic"), ("651", "geographic")):
        for f in record.get_fields(tag):
            _subject(mods, f, kind)
    for tag, authority in (("082", "ddc"), ("050", "lcc")):
        for f in record.get_fields(tag):
            for value in _values(f, "a"):
                child(mods, "classification", value, authority=authority)
    for tag, kind in (("020", "isbn"), ("022", "issn")):
        for f in record.get_fields(tag):
            for value in _values(f, "a"):
                child(mods, "identifier", value, type=kind)
    info = child(mods, "recordInfo")
    control = record.get("001")
    if control is not None and control.data:
        child(info, "recordIdentifier", control.data.strip())
    child(info, "recordOrigin", "Converted from MARC 21 to MODS 3.7")
    return mods


def _origin(mods, record: pymarc.Record, leader: str) -> None:
    published = record.get("264") or record.get("260")
    edition = record.get("250")
    issuance = {"m": "monographic", "s": "continuing", "i": "integrating resource"}.get(leader[7])
    if published is None and edition is None and issuance is None:
        return
    origin = child(mods, "originInfo")
    if published is not None:
        for place in _values(published, "a"):
            child(child(origin, "place"), "placeTerm", place, type="text")
        for publisher in _values(published, "b"):
            child(origin, "publisher", publisher)
        for date in _values(published, "c"):
            child(origin, "dateIssued", date.strip("[]c©"))
    if edition is not None:
        for value in _values(edition, "a"):
            child(origin, "edition", value)
    if issuance:
        child(origin, "issuance", issuance)


def _language(mods, record: pymarc.Record) -> None:
    codes = [v for f in record.get_fields("041") for v in _values(f, "a")]
    fixed = record.get("008")
    if not codes and fixed is not None and fixed.data and len(fixed.data) >= 38:
        code = fixed.data[35:38].strip()
        codes = [code] if code and code != "|||" else []
    for code in dict.fromkeys(codes):
        language = child(mods, "language")
        child(language, "languageTerm", code, type="code", authority="iso639-2b")


def _subject(mods, field, kind: str) -> None:
    heading = _values(field, "a" if kind != "name" else "abcd")
    if not heading:
        return
    subject = child(mods, "subject", authority=_SUBJECT_AUTHORITY.get(field.indicator2, ""))
    if kind == "name":
        child(child(subject, "name"), "namePart", " ".join(heading))
    else:
        child(subject, kind, heading[0])
    for code, name in (("x", "topic"), ("z", "geographic"), ("y", "temporal"), ("v", "genre")):
        for value in _values(field, code):
            child(subject, name, value)
