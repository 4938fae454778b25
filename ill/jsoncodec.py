"""JSON for the database's JSON columns, the importer's bulk writes and the
HTTP responses (``ResponseJSON``).

orjson does the work (a MARC record's JSON is most of what an import writes,
and most of what clustering and the search index read back); the standard
library takes over for the few values orjson refuses (a lone surrogate from
a MARC-in-JSON file, an integer beyond 64 bits, NaN), so nothing that was
storable before is refused now.
"""
from __future__ import annotations

import json

import orjson
from flask.json.provider import DefaultJSONProvider

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


# Flask's own JSON for responses, written by orjson: every API answer (a page
# of search results is thousands of values) is encoded here.
_RESPONSE_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                     | orjson.OPT_PASSTHROUGH_DATACLASS)


class ResponseJSON(DefaultJSONProvider):
    """Flask's DefaultJSONProvider, with ``dumps`` done by orjson: the same
    values for the same objects (keys sorted, dates and decimals as Flask
    writes them, through its ``default``), but characters beyond ASCII
    written as UTF-8 rather than escaped. Pretty printing (debug) and
    anything orjson refuses go the standard library's way."""

    def dumps(self, obj, **kwargs) -> str:
        if kwargs.keys() <= {"separators"} and kwargs.get("separators", (",", ":")) == (",", ":"):
            try:
                return orjson.dumps(obj, default=self.default, option=_RESPONSE_OPTIONS).decode("utf-8")
            except (TypeError, orjson.JSONEncodeError):
                pass
        return super().dumps(obj, **kwargs)
