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
