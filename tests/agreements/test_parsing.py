"""Reading a coordinator's spreadsheet cells; counting traffic; which alerts are due."""
from datetime import date

import pytest

from agreements import alerts, traffic
from agreements.sheets import find_partner, make_code, parse_date, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("24 Juni 2024", date(2024, 6, 24)),
    ("1 Desember 2021", date(2021, 12, 1)),
    ("7 Agustus 2022", date(2022, 8, 7)),
    ("7 Agt 2022", date(2022, 8, 7)),
    ("3 Oktober 2024", date(2024, 10, 3)),
    ("30 Nopember 2026", date(2026, 11, 30)),
    ("13 july 2027", date(2027, 7, 13)),
    ("2024-06-24", date(2024, 6, 24)),
    ("24/06/2024", date(2024, 6, 24)),
    ("24-06-2024", date(2024, 6, 24)),
    ("", None),
    ("   ", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31 Juni 2024", "24 Juno 2024", "soon", "2024-13-01",
                                  "32/01/2024"])
def test_unreadable_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(("text", "months"), [
    ("5 tahun", 60), ("3 Tahun", 36), ("6 bulan", 6), ("2 years", 24), ("4", 48), ("", None),
])
def test_durations(text, months):
    assert parse_duration(text) == months


@pytest.mark.parametrize("text", ["lima tahun", "0 tahun", "5 abad"])
def test_unreadable_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_codes():
    assert make_code("Universitas Darma Agung", set()) == "UDA"
    assert make_code("UIN Sunan Kalijaga", set()) == "UINSK"
    assert make_code("IAIN Batusangkar", {"IAINB"}) == "IAINB2"
    assert make_code("Perpustakaan Nasional RI", set()) == "PNRI"


def test_partner_names_match_loosely():
    class P:
        def __init__(self, name):
            self.name = name

    uinsu, ugm = P("Perpustakaan UIN Sumatera Utara"), P("Universitas Gadjah Mada")
    assert find_partner([uinsu, ugm], "universitas  gadjah mada ") is ugm
    assert find_partner([uinsu, ugm], "UIN Sumatera Utara") is uinsu
    assert find_partner([uinsu, ugm], "Universitas Quality") is None


def test_tally_counts_per_library_only_between_agreement_members():
    rows = [(1, None, None), (1, 2, "supplied"), (1, None, None), (1, 2, "unfilled"),
            (1, 4, "supplied"), (2, None, None), (2, 1, "asked"), (2, 3, "waiting"),
            (3, None, None), (3, 1, "no_answer"), (3, 2, "not_asked")]
    counts = traffic.tally(rows, {frozenset((1, 2)), frozenset((1, 3))})
    assert counts[1] == traffic.Traffic(sent=2, received=2, filled=0, unfilled=1)
    assert counts[2] == traffic.Traffic(sent=1, received=2, filled=1, unfilled=1)
    assert counts[3] == traffic.Traffic(sent=1)
    assert 4 not in counts
    everything = traffic.tally(rows)
    assert everything[4] == traffic.Traffic(received=1, filled=1)


def test_due_alerts_once_each():
    day = date(2026, 11, 23)
    end = date(2026, 11, 30)
    cands = [(1, "expiring", end, False), (2, "expired", date(2026, 11, 1), False),
             (3, "expired", date(2026, 10, 18), False), (4, "expiring", end, True),
             (5, "active", date(2027, 7, 13), False)]
    due = alerts.due_alerts(cands, set(), day)
    assert due == [(1, alerts.EXPIRING, end), (2, alerts.EXPIRED, date(2026, 11, 1))]
    assert alerts.due_alerts(cands, set(due), day) == []
    # An end moved later is a new alert.
    later = date(2026, 12, 31)
    assert alerts.due_alerts([(1, "expiring", later, False)], set(due), day) == [
        (1, alerts.EXPIRING, later)]
