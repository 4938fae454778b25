"""Uploading an export on the import page: who may, limits, the background
run, progress and the report."""
from __future__ import annotations

import io
import json

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from tests.factories import login
from union_catalog import jobs
from union_catalog.models import ImportRun, SourceRecord

from .marcdata import books, iso, record
from .runs import finish, upload


@pytest.fixture
def app_config():
    return {"CATALOG_UPLOAD_MAX_BYTES": 200_000}


def test_librarian_imports_for_own_library(client, make, session):
    lib = make.partner("UGM")
    user = make.user("librarian", library=lib)
    make.commit()
    login(client, user.email)
    run = finish(session, upload(client, "UGM", iso(books(3))))
    assert run.status == "done", run.failure
    assert (run.read, run.imported, run.items) == (3, 3, 3)
    assert run.user_id == user.id
    page = client.get(f"/catalog/imports/{run.id}").get_data(as_text=True)
    assert "export.mrc" in page
    history = client.get("/catalog/imports/").get_data(as_text=True)
    assert "export.mrc" in history
    data = client.get(f"/catalog/imports/{run.id}.json").get_json()
    assert data["status"] == "done" and data["report"]["imported"] == 3
    assert data["report"]["partner"] == "UGM"
    assert session.scalar(select(func.count(SourceRecord.id))) == 3


def _defective_import(client, make, session) -> ImportRun:
    """A coordinator's import for UGM of three records, the first with a
    leader that lies about its length (read, repaired, warned of)."""
    make.partner("UGM")
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    data = iso(books(3))
    data = b"99999" + data[5:]
    return finish(session, upload(client, "UGM", data))


def test_defective_records_show_in_the_report(client, make, session):
    run = _defective_import(client, make, session)
    assert run.status == "done"
    assert run.report["problems"][0]["ordinal"] == 1
    assert run.report["problems"][0]["severity"] == "warning"
    assert run.report["problems"][0]["defect"].startswith("record length in the leader is 99999")
    page = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "record length in the leader is 99999" in page
    page = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "panjang cantuman di leader 99999" in page


def test_only_that_library_or_a_coordinator_may_import(client, make, session):
    make.partner("UGM")
    other = make.user("librarian", library=make.partner("UINSU"))
    patron = make.user("patron", library="UGM")
    make.commit()
    login(client, other.email)
    assert upload(client, "UGM", iso(books(1))).status_code == 403
    client.post("/logout")
    login(client, patron.email)
    assert upload(client, "UGM", iso(books(1))).status_code == 403
    assert client.get("/catalog/imports/").status_code == 403
    assert session.scalar(select(func.count(ImportRun.id))) == 0


def test_librarian_sees_only_own_runs(client, make, session):
    ugm = make.partner("UGM")
    make.partner("UINSU")
    coordinator = make.user("coordinator")
    other = make.user("librarian", library="UINSU")
    make.commit()
    login(client, coordinator.email)
    run = finish(session, upload(client, "UGM", iso(books(1)), name="ugm-export.mrc"))
    client.post("/logout")
    login(client, other.email)
    assert "ugm-export.mrc" not in client.get("/catalog/imports/").get_data(as_text=True)
    assert client.get(f"/catalog/imports/{run.id}").status_code == 403
    assert ugm.id == run.partner_id


def test_too_large_upload_is_refused_clearly(client, make, session):
    make.partner("UGM")
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    r = upload(client, "UGM", b"0" * 300_000)
    assert r.status_code == 413
    assert "MB" in r.get_data(as_text=True)
    assert session.scalar(select(func.count(ImportRun.id))) == 0


def test_the_limit_is_the_files_not_the_forms(client, make, session, tmp_path):
    """A file just under the limit is taken, though the form around it makes
    the request larger; one just over it is refused, and the message's two
    sizes do not read alike."""
    make.partner("UGM")
    coordinator = make.user("coordinator", locale="en")
    make.commit()
    login(client, coordinator.email)
    r = upload(client, "UGM", b"0" * (200_000 - 10))
    assert r.status_code == 303
    r = upload(client, "UGM", b"0" * (200_000 + 10))
    assert r.status_code == 413
    text = r.get_data(as_text=True)
    assert "200,010 bytes" in text and "200,000 bytes" in text


def test_unusable_file_fails_the_run_and_changes_nothing(client, make, session):
    make.partner("UGM")
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    finish(session, upload(client, "UGM", iso(books(2))))
    run = finish(session, upload(client, "UGM", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
                                 name="evil.xml"))
    assert run.status == "failed" and "refused" in run.failure
    assert "refused" in client.get(f"/catalog/imports/{run.id}").get_data(as_text=True)
    assert session.scalar(select(func.count(SourceRecord.id))) == 2


def test_worker_runs_queued_imports(app, runner, make, session, tmp_path):
    lib = make.partner("UGM")
    make.commit()
    path = tmp_path / "queued.mrc"
    path.write_bytes(iso(books(2)))
    run = ImportRun(partner_id=lib.id, filename="queued.mrc", stored_path=str(path), status="queued")
    session.add(run)
    session.commit()
    result = runner.invoke(args=["catalog", "worker", "--once"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(ImportRun, run.id).status == "done"
    assert "imported 2" in result.output


def test_tick_marks_interrupted_runs_and_purges_old_uploads(app, runner, make, session):
    from datetime import timedelta

    from ill.accounts import utcnow

    lib = make.partner("UGM")
    make.commit()
    old_file = jobs.uploads_dir() / "old.mrc"
    old_file.write_bytes(b"x")
    done = ImportRun(partner_id=lib.id, filename="old.mrc", stored_path=str(old_file), status="done",
                     finished_at=utcnow() - timedelta(days=60))
    dead = ImportRun(partner_id=lib.id, filename="dead.mrc", status="running",
                     worker=jobs.worker_name().rsplit(":", 1)[0] + ":999999999")
    session.add_all([done, dead])
    session.commit()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 interrupted import(s) marked failed" in result.output
    session.expire_all()
    assert session.get(ImportRun, dead.id).status == "failed"
    assert not old_file.exists() and session.get(ImportRun, done.id).stored_path is None


def test_cli_refuses_an_unusable_file(runner, make, tmp_path):
    make.partner("UGM")
    make.commit()
    bad = tmp_path / "letter.txt"
    bad.write_text("Dear librarian, here is our catalogue.")
    report = tmp_path / "report.json"
    result = runner.invoke(args=["catalog", "import", "--partner", "UGM", str(bad),
                                 "--report", str(report)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "not a MARC export" in result.output
    written = json.loads(report.read_text(encoding="utf-8"))  # a script reads why
    assert written["failed"] is True and "not a MARC export" in written["error"]
    assert (written["partner"], written["file"], written["imported"]) == ("UGM", "letter.txt", 0)
    result = runner.invoke(args=["catalog", "import", "--partner", "NOPE", str(bad)])
    assert result.exit_code == 1 and "no partner library" in result.output


def test_every_problem_shows_in_the_readers_language(client, make, session):
    """Record and item problems alike: a record both repaired by the reader
    and sharing its 001 with another shows both, and the items that could
    not be attached say why, in Indonesian as in English."""
    make.partner("UDA", system="slims")
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    first, second, third = (record("x1", "Hukum Islam", items=[]), record("x1", "Fiqih Muamalah", items=[]),
                            record(None, "Metodologi Penelitian", items=[]))
    data = first.as_marc() + b"99999" + second.as_marc()[5:] + third.as_marc()
    items = (b"item_code,call_number,coll_type_name,location_name,item_status_name,title\n"
             b"B1,340 LUB h,Textbook,Pusat,,Hukum Islam\n"
             b"B4,999 XXX,Textbook,Pusat,,Buku Yang Tidak Ada\n"
             b"B5,999 XXX,Textbook,Pusat,,\n")
    run = finish(session, upload(client, "UDA", data, items=items))
    assert run.status == "done", run.failure
    defect = run.report["problems"][0]["defect"]
    assert defect.startswith("record length in the leader is 99999") and "same 001 'x1' as record 1" in defect
    assert [p["barcode"] for p in run.report["item_problems"]] == ["B4", "B5"]
    english = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "record length in the leader is 99999" in english
    assert "same 001 &#39;x1&#39; as record 1; both kept" in english
    assert "no record in the export has this title" in english
    assert "the row names no title" in english
    indonesian = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "panjang cantuman di leader 99999" in indonesian
    assert "001 &#39;x1&#39; sama dengan cantuman 1" in indonesian
    assert "tidak ada cantuman dalam ekspor dengan judul ini" in indonesian
    assert "baris ini tidak menyebut judul" in indonesian
    for english_only in ("both kept", "has this title", "names no title"):
        assert english_only not in indonesian


def test_cli_summary_speaks_the_operators_language(runner, make, tmp_path, monkeypatch):
    """`catalog import` says what it did in the operator's language (LANG),
    problems included; the report it writes stays English for scripts."""
    make.partner("UDA", system="slims")
    make.commit()
    export = tmp_path / "uda.mrc"
    first, second = record("x1", "Hukum Islam", items=[]), record("x1", "Fiqih Muamalah", items=[])
    export.write_bytes(first.as_marc() + b"99999" + second.as_marc()[5:])
    items = tmp_path / "items.csv"
    items.write_text("item_code,call_number,coll_type_name,location_name,item_status_name,title\n"
                     "B4,999 XXX,Textbook,Pusat,,Buku Yang Tidak Ada\n", encoding="utf-8")
    args = ["catalog", "import", "--partner", "UDA", str(export), "--items", str(items),
            "--report", str(tmp_path / "report.json")]
    english = runner.invoke(args=args)
    assert english.exit_code == 0, english.output
    assert "read 2 record(s), imported 2 (2 new, 0 changed, 0 unchanged), withdrew 0" in english.output
    assert "0 record(s) skipped, 1 imported with repairs:" in english.output
    assert "warning record 2 (001 x1): record length in the leader is 99999" in " ".join(english.output.split())
    assert "same 001 'x1' as record 1; both kept" in english.output
    assert "1 item(s) of the item file not attached:" in english.output
    assert "line 2 B4: no record in the export has this title ('Buku Yang Tidak Ada')" in english.output

    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    refresh()  # the test's application context keeps the language it chose first
    indonesian = runner.invoke(args=args)
    assert indonesian.exit_code == 0, indonesian.output
    out = " ".join(indonesian.output.split())
    assert "2 cantuman dibaca, 2 diimpor (0 baru, 0 berubah, 2 tetap), 0 ditarik" in out
    assert "0 cantuman dilewati, 1 diimpor dengan perbaikan:" in out
    assert "peringatan cantuman 2 (001 x1): panjang cantuman di leader 99999" in out
    assert "001 'x1' sama dengan cantuman 1; keduanya disimpan" in out
    assert "1 eksemplar dari berkas eksemplar tidak terpasang:" in out
    assert "baris 2 B4: tidak ada cantuman dalam ekspor dengan judul ini ('Buku Yang Tidak Ada')" in out
    for english_only in ("record(s)", "imported", "both kept", "not attached", "has this title"):
        assert english_only not in indonesian.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["problems"][0]["defect"].startswith("record length in the leader is 99999")


def test_barcodes_on_several_items_are_shown_on_the_page_and_said_by_the_command(
        client, runner, make, session, tmp_path):
    make.partner("UGM", holdings_tag="952")
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)

    def copy(barcode):
        return [("a", "UGM"), ("o", "297 NAS p"), ("p", barcode)]

    data = iso([record("a1", "Fiqih Muamalah", items=[copy("BC1"), copy("BC2")]),
                record("a2", "Hukum Waris", items=[copy("BC2")])])
    run = finish(session, upload(client, "UGM", data))
    assert run.status == "done", run.failure
    assert run.report["duplicate_barcodes_total"] == 1
    english = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Barcodes on more than one item" in english
    assert "<td>BC2</td><td>1 (a1), 2 (a2)</td>" in english
    indonesian = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Barkod yang dipakai lebih dari satu eksemplar" in indonesian
    export = tmp_path / "ugm.mrc"
    export.write_bytes(data)
    said = runner.invoke(args=["catalog", "import", "--partner", "UGM", str(export)])
    assert said.exit_code == 0, said.output
    assert "1 barcode(s) on more than one item (imported as they are):" in said.output
    assert "BC2: records 1 (001 a1), 2 (001 a2)" in said.output


def test_the_problems_download_as_a_worklist_in_the_readers_language(client, make, session):
    import csv

    other = make.user("librarian", library=make.partner("PNRI"))
    run = _defective_import(client, make, session)
    page = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/catalog/imports/{run.id}-problems.csv" in page
    resp = client.get(f"/catalog/imports/{run.id}-problems.csv", headers={"Accept-Language": "en"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="import-{run.id}-UGM-problems.csv"'
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet programs read it as UTF-8
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][0] == "Problem with" and rows[0][-1] == "What is wrong"
    assert rows[1][:2] == ["record", "1"] and rows[1][6] == "imported, repaired"
    assert rows[1][7].startswith("record length in the leader is 99999")
    indonesian = client.get(f"/catalog/imports/{run.id}-problems.csv",
                            headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert indonesian.startswith("\ufeffMasalah pada,") and "panjang cantuman di leader 99999" in indonesian
    # another library's librarian may not read it
    client.post("/logout")
    login(client, other.email)
    assert client.get(f"/catalog/imports/{run.id}-problems.csv").status_code == 403


def _import_notices(session, user):
    from ill.notify import Notice

    session.expire_all()
    return session.scalars(select(Notice).where(Notice.user_id == user.id, Notice.kind == "import_finished")
                           .order_by(Notice.id)).all()


def test_whoever_started_an_import_hears_how_it_ended(client, make, session, runner, tmp_path):
    make.partner("UGM", name="Universitas Gadjah Mada")
    librarian = make.user("librarian", library="UGM", locale="en")
    make.commit()
    login(client, librarian.email)
    run = finish(session, upload(client, "UGM", iso(books(3))))
    [done] = _import_notices(session, librarian)
    assert done.subject == "Import for Universitas Gadjah Mada (UGM) has ended"
    assert "The import of export.mrc for Universitas Gadjah Mada (UGM) is done." in done.body
    assert "Imported: 3 records (0 of them unchanged); withdrawn: 0; copies: 3." in done.body
    assert done.link.endswith(f"/catalog/imports/{run.id}")
    failed = finish(session, upload(client, "UGM", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
                                    name="evil.xml"))
    notices = _import_notices(session, librarian)
    assert len(notices) == 2 and "evil.xml for Universitas Gadjah Mada (UGM) failed" in notices[1].body
    assert "refused" in notices[1].body and failed.status == "failed"
    checked = finish(session, upload(client, "UGM", iso(books(3)), check_only="1"))
    assert checked.status == "checked"
    assert "nothing was changed. Imported, it would give:" in _import_notices(session, librarian)[2].body
    # an import nobody started from the web (cron's worker, a scheduled harvest) tells nobody this way
    path = tmp_path / "queued.mrc"
    path.write_bytes(iso(books(2)))
    session.add(ImportRun(partner_id=librarian.library_id, filename="queued.mrc", stored_path=str(path),
                          status="queued"))
    session.commit()
    assert runner.invoke(args=["catalog", "worker", "--once"]).exit_code == 0
    assert len(_import_notices(session, librarian)) == 3
