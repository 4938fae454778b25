"""The command line: agreements add, import, list; partners."""
import csv
import io
import json
from datetime import date

import pytest

from agreements import queries
from agreements.models import Agreement, AgreementChange, Partner

EXPECTED_2026_11_23 = {
    "Perpustakaan Nasional RI": "expired",
    "Universitas Gadjah Mada": "unknown",
    "Perpustakaan Balitbang dan Diklat Kemenag": "unknown",
    "UIN Sunan Kalijaga": "active",
    "UIN Sunan Gunung Djati Bandung": "expired",
    "UIN Raden Fatah Palembang": "expired",
    "IAIN Bukittinggi": "expired",
    "IAIN Batusangkar": "expired",
    "IAIN Malikussaleh": "expiring",
    "Universitas Malikussaleh": "expired",
    "Politeknik Negeri Medan": "expired",
    "Universitas Muhammadiyah Sumatera Utara": "unknown",
    "Politeknik Wilmar Bisnis Indonesia": "expired",
    "Universitas Quality": "expired",
    "STIPAP": "expired",
    "Universitas Darma Agung": "expired",
}


def _listing(runner, day):
    result = runner.invoke(args=["agreements", "list", "--as-of", day, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["agreements"]
    return {next(p["name"] for p in r["parties"] if p["code"] != "UINSU"): r for r in rows}


def test_import_the_real_table(runner, make, shared_dir):
    make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
    make.commit()
    result = runner.invoke(args=["agreements", "import",
                                 str(shared_dir / "data" / "kerjasama_uinsu.csv"),
                                 "--party", "UINSU", "--service", "loan", "--service", "copy"])
    assert result.exit_code == 0, result.output
    assert "16 agreements created, 16 new partners, 0 already there, 0 problems" in result.output
    assert "row 2: agreement" in result.output and "row 17: agreement" in result.output
    rows = _listing(runner, "2026-11-23")
    assert len(rows) == 16
    assert {name: r["status"] for name, r in rows.items()} == EXPECTED_2026_11_23
    pnri = rows["Perpustakaan Nasional RI"]
    assert (pnri["start"], pnri["end"], pnri["duration_months"]) == ("2021-06-24", "2024-06-24", 36)
    assert pnri["services"].keys() == {"loan", "copy"}
    assert rows["Universitas Gadjah Mada"]["start"] is None
    # Another day, other statuses: on 2024-06-24 PNRI is in its last day.
    earlier = _listing(runner, "2024-06-24")
    assert earlier["Perpustakaan Nasional RI"]["status"] == "expiring"
    assert earlier["UIN Sunan Gunung Djati Bandung"]["status"] == "active"
    assert _listing(runner, "2024-06-25")["Perpustakaan Nasional RI"]["status"] == "expired"
    # Importing again creates nothing twice.
    again = runner.invoke(args=["agreements", "import",
                                str(shared_dir / "data" / "kerjasama_uinsu.csv"), "--party", "UINSU"])
    assert "0 agreements created, 0 new partners, 16 already there" in again.output


def test_import_routes_only_live_agreements(runner, make, shared_dir, session):
    make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
    make.commit()
    runner.invoke(args=["agreements", "import", str(shared_dir / "data" / "kerjasama_uinsu.csv"),
                        "--party", "UINSU", "--service", "loan"])
    session.expire_all()
    uinsu = session.query(Partner).filter_by(code="UINSU").one()
    others = {p.name: p.id for p in session.query(Partner).filter(Partner.code != "UINSU")}
    links = queries.links_for(session, uinsu.id, others.values(), "loan", date(2026, 11, 23))
    live = {name for name, pid in others.items() if links[pid].live}
    assert live == {"UIN Sunan Kalijaga", "IAIN Malikussaleh"}
    # --service loan only: copy is not routed.
    assert not queries.links_for(session, uinsu.id, others.values(), "copy",
                                 date(2026, 11, 23))[others["UIN Sunan Kalijaga"]].live


def test_import_matches_existing_partners_by_name_and_reports_bad_cells(runner, make, tmp_path,
                                                                       session):
    make.partner("HOME", "Perpustakaan Rumah")
    make.partner("UGM", "Universitas Gadjah Mada")
    make.commit()
    sheet = tmp_path / "k.csv"
    sheet.write_text(
        "Nama Instansi;Masa Kerja sama;Masa berakhir Kerja Sama\n"
        "universitas gadjah  mada;5 tahun;31 Desember 2030\n"
        "Universitas Baru;lima tahun;3 Oktober 2024\n"
        "Institut Lain;2 tahun;31 Juni 2025\n"
        ";;\n"
        ";3 tahun;1 Januari 2025\n", encoding="utf-8")
    result = runner.invoke(args=["agreements", "import", str(sheet), "--party", "HOME"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "row 2: agreement" in out and "with UGM (" in out
    assert "row 3: Universitas Baru: cannot read the duration 'lima tahun' in column 'Masa Kerja sama'" in out
    assert "row 4: Institut Lain: cannot read the date '31 Juni 2025' in column 'Masa berakhir Kerja Sama'" in out
    assert "row 6: no partner name; row skipped." in out
    assert "3 agreements created, 2 new partners" in out
    session.expire_all()
    baru = session.query(Partner).filter_by(name="Universitas Baru").one()
    assert baru.code == "UB"
    rows = {r["parties"][1]["code"]: r for r in json.loads(runner.invoke(
        args=["agreements", "list", "--as-of", "2026-11-23", "--format", "json"]).output)["agreements"]}
    assert rows["UB"]["end"] == "2024-10-03" and rows["UB"]["start"] is None
    assert rows["UB"]["status"] == "expired"
    assert rows["IL"]["status"] == "unknown"
    assert rows["UGM"]["start"] == "2025-12-31"
    assert session.query(AgreementChange).filter_by(action="imported").count() == 3


def test_import_errors(runner, make, tmp_path, session):
    make.partner("HOME", "Perpustakaan Rumah")
    make.commit()
    sheet = tmp_path / "k.csv"
    sheet.write_text("Kolom A,Kolom B\nx,y\n", encoding="utf-8")
    result = runner.invoke(args=["agreements", "import", str(sheet), "--party", "HOME"])
    assert result.exit_code == 1
    assert "no column with the partner's name" in result.output
    sheet.write_text("Nama Instansi\nX\n", encoding="utf-8")
    result = runner.invoke(args=["agreements", "import", str(sheet), "--party", "NOPE"])
    assert result.exit_code == 1 and "no partner library with the code NOPE" in result.output
    result = runner.invoke(args=["agreements", "import", str(sheet)])
    assert result.exit_code == 1 and "--party" in result.output
    assert session.query(Agreement).count() == 0


def test_add_and_list(runner, make):
    for code in ("AAA", "BBB", "CCC"):
        make.partner(code)
    make.commit()
    r = runner.invoke(args=["agreements", "add", "AAA", "BBB", "--start", "2025-01-01",
                            "--years", "3", "--service", "loan", "--title", "Kerja sama AB"])
    assert r.exit_code == 0, r.output
    assert "2025-01-01 to 2028-01-01" in r.output
    r = runner.invoke(args=["agreements", "add", "AAA", "BBB", "CCC", "--start", "2026-01-01",
                            "--end", "2026-12-31", "--service", "copy"])
    assert r.exit_code == 0, r.output
    table = runner.invoke(args=["agreements", "list", "--as-of", "2026-11-23"])
    lines = table.output.splitlines()
    assert lines[0].split() == ["id", "status", "parties", "start", "end", "services", "title"]
    assert any("expiring" in line and "AAA BBB CCC" in line for line in lines)
    assert any("active" in line and "Kerja sama AB" in line for line in lines)
    out = runner.invoke(args=["agreements", "list", "--as-of", "2028-06-01", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["status"], r["services"]) for r in rows] == [("expired", "copy"), ("expired", "loan")]


@pytest.mark.parametrize(("args", "message"), [
    (["AAA", "BBB", "--start", "2025-01-01"], "either --end or --years"),
    (["AAA", "BBB", "--start", "2025-01-01", "--end", "2026-01-01", "--years", "1"],
     "either --end or --years"),
    (["AAA", "BBB", "--start", "01/01/2025", "--years", "1"], "--start: '01/01/2025' is not a date"),
    (["AAA", "ZZZ", "--start", "2025-01-01", "--years", "1"], "no partner library with the code ZZZ"),
    (["AAA", "--start", "2025-01-01", "--years", "1"], "at least two libraries"),
    (["AAA", "BBB", "--start", "2025-01-01", "--end", "2024-01-01"], "is before the start"),
])
def test_add_errors(runner, make, session, args, message):
    make.partner("AAA")
    make.partner("BBB")
    make.commit()
    r = runner.invoke(args=["agreements", "add", *args])
    assert r.exit_code != 0
    assert message in r.output
    assert session.query(Agreement).count() == 0


def test_import_with_a_party_column(runner, make, tmp_path, session):
    make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
    make.partner("UGM", "Universitas Gadjah Mada")
    make.commit()
    sheet = tmp_path / "k.csv"
    sheet.write_text(
        "Pihak,Nama Instansi,Tanggal mulai,Masa Kerja sama\n"
        "UINSU,Universitas Gadjah Mada,1 Januari 2025,3 tahun\n"
        "UIN Sumatera Utara,STIPAP,2025-01-01,\n"
        "Nowhere,STIPAP,,\n", encoding="utf-8")
    result = runner.invoke(args=["agreements", "import", str(sheet), "--service", "copy"])
    assert result.exit_code == 0, result.output
    assert "row 4: no partner library 'Nowhere' (column 'Pihak'); row skipped." in result.output
    assert "2 agreements created, 1 new partners" in result.output
    rows = json.loads(runner.invoke(args=["agreements", "list", "--as-of", "2026-11-23",
                                          "--format", "json"]).output)["agreements"]
    got = {tuple(p["code"] for p in r["parties"]): (r["start"], r["end"], r["status"])
           for r in rows}
    assert got == {("UINSU", "UGM"): ("2025-01-01", "2028-01-01", "active"),
                   ("UINSU", "STIPAP"): ("2025-01-01", None, "unknown")}
