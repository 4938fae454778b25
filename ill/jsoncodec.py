"""JSON for the database's JSON columns and the importer's bulk writes.

orjson does the work (a MARC record's JSON is most of what an import writes,
and most of what clustering and the search index read back); the standard
library takes over for the few values orjson refuses (a lone surrogate from
a MARC-in-JSON file, an integer beyond 64 bits, NaN), so nothing that was
storable before is refused now.
"""
from __future__ import annotations

import json

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        # escaped to ASCII, so that even a lone surrogate can be stored (as an escape)
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
