"""An export of part of a catalogue must not withdraw the rest unasked (both
engines): an import that would withdraw more than a fifth of a partner's
records (and more than 50) stops, and changes nothing, until someone allows it."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from tests.factories import login, switch_to
from union_catalog import importer, jobs
from union_catalog.errors import CatalogError
from union_catalog.models import SourceRecord

from .marcdata import books, iso
from .oai_server import Repository, Server
from .runs import finish, upload


def live(session, partner) -> int:
    return session.scalar(select(func.count()).select_from(SourceRecord).where(
        SourceRecord.partner_id == partner.id, SourceRecord.withdrawn_at.is_(None)))


def load(session, partner, tmp_path, records, name="export.mrc", **kw):
    path = tmp_path / name
    path.write_bytes(iso(records))
    report = importer.import_export(session, partner, str(path), **kw)
    session.commit()
    return report


def signed_in_at_ugm(client, make, session, tmp_path, n: int):
    """UGM with n records imported, its librarian signed in, and another
    library's librarian: (library, records, librarian, stranger)."""
    lib = make.partner("UGM")
    recs = books(n)
    load(session, lib, tmp_path, recs)
    librarian = make.user("librarian", library=lib)
    stranger = make.user("librarian", library=make.partner("PNRI"))
    make.commit()
    login(client, librarian.email)
    return lib, recs, librarian, stranger


def spreadsheet(resp) -> list[list[str]]:
    """The rows of a CSV download (UTF-8 with a byte order mark)."""
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("live_before,expected", [(0, 50), (100, 50), (250, 50), (1000, 200)])
def test_the_limit_is_a_fifth_and_never_under_fifty(app, live_before, expected):
    assert importer.withdrawal_limit(live_before) == expected


def test_a_partial_export_stops_and_changes_nothing_until_allowed(session, make, tmp_path):
    lib = make.partner("UGM")
    recs = books(120)
    load(session, lib, tmp_path, recs)
    with pytest.raises(CatalogError) as err:
        load(session, lib, tmp_path, recs[:30])
    session.rollback()
    assert err.value.status == 409 and err.value.code == "too_many_withdrawals"
    assert "would withdraw 90 of the 120 records UGM has in the union catalogue (75%)" in err.value.message
    # which ones, for whoever decides: in the order of the file they came in
    named = err.value.details["withdrawn_records"]
    assert [r["control_number"] for r in named] == [f"b{i:05d}" for i in range(31, 121)]
    assert named[0]["title"].startswith("Pengantar Ilmu 31") and named[0]["union_record"]
    assert live(session, lib) == 120
    report = load(session, lib, tmp_path, recs[:30], allow_withdrawals=True)
    assert report["withdrawn"] == 90 and live(session, lib) == 30
    assert len(report["withdrawn_records"]) == 90
    # at most the first hundred are named
    load(session, lib, tmp_path, books(250), allow_withdrawals=True)
    report = load(session, lib, tmp_path, books(250)[:10], allow_withdrawals=True)
    assert report["withdrawn"] == 240 and len(report["withdrawn_records"]) == importer.SHOWN_WITHDRAWALS


def test_withdrawals_within_the_limit_need_no_leave(session, make, tmp_path):
    lib = make.partner("UGM")
    recs = books(120)
    load(session, lib, tmp_path, recs)
    assert load(session, lib, tmp_path, recs[:71])["withdrawn"] == 49  # fewer than 50
    small = make.partner("POLMED")
    few = books(40, prefix="p")
    load(session, small, tmp_path, few)
    assert load(session, small, tmp_path, few[:2])["withdrawn"] == 38  # a small library's 95%


def test_the_command_says_how_to_allow_it(session, make, runner, tmp_path):
    lib = make.partner("UGM")
    recs = books(100)
    load(session, lib, tmp_path, recs)
    part = tmp_path / "part.mrc"
    part.write_bytes(iso(recs[:10]))
    result = runner.invoke(args=["catalog", "import", "--partner", "UGM", str(part)])
    assert result.exit_code == 1
    assert "would withdraw 90 of the 100 records" in result.output
    assert "The first of them:" in result.output and "b00011  Pengantar Ilmu 11" in result.output
    assert "--allow-withdrawals" in result.output
    assert live(session, lib) == 100
    result = runner.invoke(args=["catalog", "import", "--partner", "UGM", str(part), "--allow-withdrawals"])
    assert result.exit_code == 0, result.output
    assert "withdrew 90" in result.output and live(session, lib) == 10


def test_the_page_runs_it_again_allowing_them_for_that_library_only(client, make, session, tmp_path):
    make.partner("UINSU")
    lib, recs, librarian, stranger = signed_in_at_ugm(client, make, session, tmp_path, 100)
    failed = finish(session, upload(client, "UGM", iso(recs[:20])))
    assert failed.status == "failed" and live(session, lib) == 100
    page = client.get(f"/catalog/imports/{failed.id}").get_data(as_text=True)
    assert "menarik 80 dari 100 cantuman" in page  # in the page's language
    assert f"/catalog/imports/{failed.id}/again" in page
    shown = page[page.index('id="withdrawn-heading"'):]
    assert "b00021" in shown and "b00100" in shown and "b00020" not in shown
    data = client.get(f"/catalog/imports/{failed.id}.json").get_json()
    assert (data["status"], data["failure_kind"], data["allow_withdrawals"]) == (
        "failed", "too_many_withdrawals", False)
    switch_to(client, stranger.email)
    assert client.post(f"/catalog/imports/{failed.id}/again").status_code == 403
    switch_to(client, librarian.email)
    run = finish(session, client.post(f"/catalog/imports/{failed.id}/again"))
    assert run.status == "done", run.failure
    assert (run.withdrawn, run.allow_withdrawals, run.user_id) == (80, True, librarian.id)
    assert live(session, lib) == 20
    # only a run that stopped at its withdrawals is run again from there
    assert client.post(f"/catalog/imports/{run.id}/again").status_code == 409


def test_the_upload_form_can_allow_them_at_once(client, make, session, tmp_path):
    lib = make.partner("UGM")
    recs = books(100)
    load(session, lib, tmp_path, recs)
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    run = finish(session, upload(client, "UGM", iso(recs[:20]), allow_withdrawals="1"))
    assert run.status == "done" and run.withdrawn == 80


def test_a_harvest_of_the_wrong_set_stops_and_is_harvested_again_when_allowed(client, make, session):
    from union_catalog import harvest

    lib = make.partner("UGM")
    coordinator = make.user("coordinator")
    make.commit()
    recs = books(100)
    repo = Repository(recs, page_size=40)
    with Server(repo) as server:
        run = harvest.queue(session, lib, url=server.url, status="running")
        session.commit()
        assert jobs.execute(session, run.id).status == "done"
        repo.records = recs[:10]
        run = harvest.queue(session, lib, url=server.url, status="running")
        session.commit()
        failed = jobs.execute(session, run.id)
        assert failed.status == "failed" and jobs.failure_kind(failed) == "too_many_withdrawals"
        assert live(session, lib) == 100
        login(client, coordinator.email)
        again = finish(session, client.post(f"/catalog/imports/{failed.id}/again"))
    assert again.status == "done" and again.harvest["url"] == server.url
    assert again.withdrawn == 90 and live(session, lib) == 10


def test_every_record_an_import_withdrew_downloads_as_a_spreadsheet(client, make, session, tmp_path):
    lib, recs, librarian, stranger = signed_in_at_ugm(client, make, session, tmp_path, 250)
    run = finish(session, upload(client, "UGM", iso(recs[:100]), allow_withdrawals="1"))
    assert run.status == "done" and run.withdrawn == 150
    page = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="withdrawn-csv"' in page and "The first 100 of 150" in page
    resp = client.get(f"/catalog/imports/{run.id}-withdrawn.csv", headers={"Accept-Language": "en"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = spreadsheet(resp)
    assert rows[0] == ["001", "Key", "Title", "Author", "Year", "ISBN"]
    assert [r[0] for r in rows[1:]] == [f"b{i:05d}" for i in range(101, 251)]  # all of them, in file order
    # a stopped import lists those it named; another library's librarian gets none
    stopped = finish(session, upload(client, "UGM", iso(recs[:10])))
    assert stopped.status == "failed"
    rows = spreadsheet(client.get(f"/catalog/imports/{stopped.id}-withdrawn.csv"))
    assert [r[0] for r in rows[1:]] == [f"b{i:05d}" for i in range(11, 101)]
    switch_to(client, stranger.email)
    assert client.get(f"/catalog/imports/{run.id}-withdrawn.csv").status_code == 403
