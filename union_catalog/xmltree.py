"""Building XML answers with ElementTree (SRU, MODS, Atom): one helper."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def child(parent, tag: str, text=None, **attrs):
    """A new child element of parent: the attributes given a value (an
    empty or None one is left out), its text when given, both as strings."""
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v not in (None, "")})
    if text is not None:
        element.text = str(text)
    return element
