"""JSON columns: orjson where it can, the standard library where it refuses."""
from ill import jsoncodec


def test_what_orjson_refuses_is_still_stored_and_read_back():
    for value in ({"a": "\ud800 lone surrogate"}, {"n": 2**70}, {1: "int key"}):
        text = jsoncodec.dumps(value)
        text.encode("utf-8")  # storable as UTF-8 text
        expected = {str(k): v for k, v in value.items()}
        assert jsoncodec.loads(text) == expected


def test_text_is_compact_utf8():
    assert jsoncodec.dumps({"judul": "Tafsīr al-Miṣbāḥ", "n": [1, None]}) == \
        '{"judul":"Tafsīr al-Miṣbāḥ","n":[1,null]}'
    assert jsoncodec.loads(b'{"a":1}') == {"a": 1}


def test_responses_say_what_flask_would_say():
    """The API's JSON (ResponseJSON, orjson) holds the same values as Flask's
    own provider would write, keys in the same order, for any JSON value and
    for what Flask's ``default`` turns into text (dates, decimals,
    translations, Markup, dataclasses); only its characters beyond ASCII are
    UTF-8 rather than escapes."""
    import dataclasses
    import enum
    import json
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from flask import Flask
    from flask.json.provider import DefaultJSONProvider
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from markupsafe import Markup

    app = Flask(__name__)
    ours, flasks = jsoncodec.ResponseJSON(app), DefaultJSONProvider(app)

    @dataclasses.dataclass
    class Row:
        title: str
        year: int

    class Kind(enum.StrEnum):
        LOAN = "loan"

    def same(value):
        text = ours.dumps(value)
        assert json.loads(text) == json.loads(flasks.dumps(value))
        # the same text, but for the characters beyond ASCII: keys in the same order, compact as a response
        assert text == flasks.dumps(value, ensure_ascii=False, separators=(",", ":"))

    same({"b": 1, "a": [date(2026, 10, 18), datetime(2026, 11, 29, 8, 30, tzinfo=UTC)],
          "c": Decimal("15000.00"), "d": Markup("<b>x</b>"), "e": Row("Tafsīr al-Miṣbāḥ", 2002),
          "f": Kind.LOAN, "g": None, "h": 1.5, "ĳ": "perjanjian berakhir pada 18 Oktober 2026"})

    scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | \
        st.floats(allow_nan=False, allow_infinity=False) | st.text()
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                          st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)

    @settings(max_examples=200, deadline=None)
    @given(values)
    def check(value):
        assert json.loads(ours.dumps(value)) == json.loads(flasks.dumps(value))

    check()


def test_the_app_answers_with_it(client):
    resp = client.get("/api/v1/search?q=nothing-here")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True).startswith('{"facets":')  # keys sorted, compact
    from ill import jsoncodec as codec

    assert isinstance(client.application.json, codec.ResponseJSON)
