"""Building XML answers with ElementTree (SRU, OAI-PMH, MODS, Atom)."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def child(parent, tag: str, text=None, **attrs):
    """A new child element of parent: the attributes given a value (an
    empty or None one is left out), its text when given, both as strings."""
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v not in (None, "")})
    if text is not None:
        element.text = str(text)
    return element


def document(text: str, payloads: dict[str, str] | None = None) -> bytes:
    """An answer's bytes, with the XML declaration: ``text`` (the
    serialised tree) with each record's XML put where its token stands. A
    record is put in as text, not as elements, so that it keeps its own
    namespace as written (SRU's unprefixed records, OAI-PMH's)."""
    for token, payload in (payloads or {}).items():
        text = text.replace(token, payload, 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")
