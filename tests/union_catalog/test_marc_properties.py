"""Property: random corruption of one record never loses the others."""
from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from union_catalog import marc

from .marcdata import books, iso

RECORDS = books(6, items=True)
RAWS = [r.as_marc() for r in RECORDS]
EXPECTED = {r["001"].data: r["245"]["a"] for r in RECORDS}


def read_all(data: bytes):
    _fmt, records = marc.open_records(io.BytesIO(data), fmt="iso2709")
    return list(records)


edits = st.lists(
    st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(min_value=0),
              st.integers(min_value=0, max_value=255)),
    min_size=1, max_size=12)


def corrupt(raw: bytes, how) -> bytes:
    body = bytearray(raw[:-1])  # the terminator stays: only this record is damaged
    for op, pos, byte in how:
        if not body and op != "insert":
            continue
        i = pos % (len(body) + (1 if op == "insert" else 0))
        if op == "replace":
            body[i] = byte
        elif op == "insert":
            body.insert(i, byte)
        else:
            del body[i]
    return bytes(body) + b"\x1d"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(victim=st.integers(min_value=0, max_value=5), how=edits)
def test_corrupting_one_record_never_loses_another(victim, how):
    raws = list(RAWS)
    raws[victim] = corrupt(raws[victim], how)
    records = read_all(b"".join(raws))
    good = {r.control_number: r for r in records if r.usable}
    victim_cn = RECORDS[victim]["001"].data
    for cn, title in EXPECTED.items():
        if cn == victim_cn:
            continue
        assert cn in good, (cn, [(r.ordinal, r.control_number, r.problems) for r in records])
        assert good[cn].record["245"]["a"] == title
        assert not good[cn].problems
    # ordinals run 1..n with nothing skipped; an unreadable record says why
    assert [r.ordinal for r in records] == list(range(1, len(records) + 1))
    assert all(r.problems for r in records if not r.usable)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_read_without_crashing(data):
    for r in read_all(data + b"\x1d" + RAWS[0]):
        assert r.usable or r.problems
    assert read_all(data + b"\x1d" + RAWS[0])[-1].control_number == RECORDS[0]["001"].data


def test_whole_file_round_trip():
    records = read_all(iso(RECORDS))
    assert [r.control_number for r in records] == list(EXPECTED)
    assert all(r.usable and not r.problems for r in records)


_json_values = st.recursive(
    st.none() | st.text() | st.integers(-(2**40), 2**40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=5), _json_values, max_size=5))
def test_content_hash_of_a_json_record_is_that_of_its_compact_json(record):
    """The hash that tells an unchanged MARCXML or MARC-in-JSON record must not
    move when the encoder does: it stays that of json.dumps' compact text."""
    import hashlib
    import json

    rr = marc.ReadRecord(1, None, as_dict=record)
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert marc.content_hash(rr, "auto") == hashlib.sha256(("auto\n" + text).encode("utf-8")).hexdigest()
