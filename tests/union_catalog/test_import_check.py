"""Checking an export before importing it (both engines): the import is
worked out whole, reported, and rolled back; then imported from its page."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.factories import login, switch_to
from union_catalog.models import ImportRun, Item, SearchDoc, SourceRecord

from .marcdata import books, iso
from .runs import finish, upload


def counts(session):
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(SourceRecord).where(SourceRecord.withdrawn_at.is_(None))),
            session.scalar(select(func.count()).select_from(Item)),
            session.scalar(select(func.count()).select_from(SearchDoc)))


def cli_import(runner, tmp_path, records, *options, name="ugm.mrc"):
    """UGM's export of records, imported by the command line with options."""
    path = tmp_path / name
    path.write_bytes(iso(records))
    return runner.invoke(args=["catalog", "import", "--partner", "UGM", str(path), *options])


def test_the_command_checks_and_changes_nothing(session, make, runner, tmp_path):
    make.partner("UGM")
    make.commit()
    assert cli_import(runner, tmp_path, books(5), name="first.mrc").exit_code == 0
    before = counts(session)
    recs = books(7)
    recs[0]["245"]["a"] = "Pengantar Ilmu Hukum"
    report = tmp_path / "r.json"
    result = cli_import(runner, tmp_path, recs[:6], "--check", "--report", str(report), name="second.mrc")
    assert result.exit_code == 0, result.output
    assert "Checked only: nothing was changed" in result.output
    assert "imported 6 (1 new, 1 changed, 4 unchanged)" in result.output
    assert counts(session) == before
    data = json.loads(report.read_text())
    assert data["checked_only"] is True and data["inserted"] == 1
    run = session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert (run.status, run.read, run.imported, run.check_only) == ("checked", 6, 6, True)


def test_a_first_import_checked_leaves_nothing_to_find(session, make, runner, tmp_path, client):
    make.partner("UGM")
    make.commit()
    result = cli_import(runner, tmp_path, books(3), "--check")
    assert result.exit_code == 0, result.output
    assert counts(session) == (0, 0, 0)
    assert client.get("/api/v1/search?q=pengantar").get_json()["total"] == 0


def test_the_page_checks_then_imports_for_that_library_only(client, make, session):
    lib = make.partner("UGM")
    librarian = make.user("librarian", library=lib)
    stranger = make.user("librarian", library=make.partner("PNRI"))
    make.commit()
    login(client, librarian.email)
    checked = finish(session, upload(client, "UGM", iso(books(4)), check_only="1"))
    assert checked.status == "checked" and checked.imported == 4
    assert counts(session) == (0, 0, 0)
    page = client.get(f"/catalog/imports/{checked.id}").get_data(as_text=True)
    assert "Hanya diperiksa" in page and f"/catalog/imports/{checked.id}/import" in page
    history = client.get("/catalog/imports/").get_data(as_text=True)
    assert "diperiksa, tidak ada yang diubah" in history
    switch_to(client, stranger.email)
    assert client.post(f"/catalog/imports/{checked.id}/import").status_code == 403
    switch_to(client, librarian.email)
    run = finish(session, client.post(f"/catalog/imports/{checked.id}/import"))
    assert run.status == "done" and (run.imported, run.user_id) == (4, librarian.id)
    assert counts(session)[:2] == (4, 4)
    assert client.post(f"/catalog/imports/{run.id}/import").status_code == 409


def test_a_check_that_would_withdraw_too_much_says_so_and_changes_nothing(session, make, runner, tmp_path):
    make.partner("UGM")
    make.commit()
    assert cli_import(runner, tmp_path, books(100)).exit_code == 0
    result = cli_import(runner, tmp_path, books(10), "--check")
    assert result.exit_code == 1 and "would withdraw 90 of the 100" in result.output
    assert counts(session)[0] == 100
