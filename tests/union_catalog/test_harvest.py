"""Harvesting a partner's catalogue over OAI-PMH, from a real local HTTP server."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import login, switch_to
from union_catalog import harvest, jobs
from union_catalog.harvest import HarvestError
from union_catalog.models import ImportRun, SourceRecord

from .marcdata import books, record
from .oai_server import Repository, Server
from .runs import finish


def no_sleep(_seconds):
    pass


def live_titles(session, partner):
    return sorted(session.scalars(select(SourceRecord.title).where(
        SourceRecord.partner_id == partner.id, SourceRecord.withdrawn_at.is_(None))))


def harvest_run(session, partner, url, **kw):
    run = harvest.queue(session, partner, url=url, status="running", **kw)
    session.commit()
    return jobs.execute(session, run.id)


# --- the protocol, without a database ----------------------------------------

def test_every_page_is_followed_and_deleted_records_are_counted(tmp_path):
    recs = books(5)
    repo = Repository([recs[0], ("deleted", "x1"), *recs[1:], ("deleted", "x2")], page_size=2)
    out = tmp_path / "h.xml"
    with Server(repo) as server:
        got = harvest.harvest(server.url, str(out), sleep=no_sleep)
    assert (got.pages, got.records, got.deleted) == (4, 5, 2)
    assert repo.requests[0] == {"verb": "ListRecords", "metadataPrefix": "marc21"}
    assert all(set(r) == {"verb", "resumptionToken"} for r in repo.requests[1:])
    from union_catalog import marc

    with open(out, "rb") as fh:
        fmt, records = marc.open_records(fh)
        read = [r for r in records if r.usable]
    assert fmt == "marcxml"
    assert [r.control_number for r in read] == [f"b{i:05d}" for i in range(1, 6)]
    assert read[0].record["245"]["a"] == "Pengantar Ilmu 1"


def test_a_set_and_a_prefix_are_asked_for(tmp_path):
    repo = Repository(books(4), formats=("marcxml",))
    repo.sets = {"skripsi": {1, 3}}
    with Server(repo) as server:
        got = harvest.harvest(server.url, str(tmp_path / "h.xml"), prefix="marcxml", set_spec="skripsi")
    assert got.records == 2
    assert repo.requests[0] == {"verb": "ListRecords", "metadataPrefix": "marcxml", "set": "skripsi"}


def test_a_format_the_repository_does_not_give_names_those_it_does(tmp_path):
    repo = Repository(books(2), formats=("oai_dc", "marcxml"))
    with Server(repo) as server, pytest.raises(HarvestError) as err:
        harvest.harvest(server.url, str(tmp_path / "h.xml"))
    assert "'marc21'" in err.value.message and "oai_dc, marcxml" in err.value.message


def test_no_records_in_a_set_says_so(tmp_path):
    repo = Repository(books(2))
    with Server(repo) as server, pytest.raises(HarvestError, match="no records .* in the set 'kosong'"):
        harvest.harvest(server.url, str(tmp_path / "h.xml"), set_spec="kosong")


def test_a_busy_repository_is_asked_again_after_the_wait_it_names(tmp_path):
    repo = Repository(books(3), page_size=2)
    repo.queued = [(503, b"busy", {"Retry-After": "7"}), (502, b"bad gateway", {})]
    waits = []
    with Server(repo) as server:
        got = harvest.harvest(server.url, str(tmp_path / "h.xml"), sleep=waits.append)
    assert got.records == 3
    assert waits == [7.0, 4]  # as asked, then the second backoff step


def test_a_repository_that_keeps_failing_fails_the_harvest(tmp_path):
    repo = Repository(books(3), page_size=2)
    with Server(repo) as server:
        first = repo.answer  # the first page answers; every later request fails

        def failing(params):
            if "resumptionToken" in params:
                return 500, b"oops", {}
            return first(params)

        repo.answer = failing
        with pytest.raises(HarvestError, match="HTTP 500 for page 2"):
            harvest.harvest(server.url, str(tmp_path / "h.xml"), sleep=no_sleep, retries=2)


def test_a_repeated_resumption_token_stops_the_harvest(tmp_path):
    repo = Repository(books(5), page_size=2)
    repo.repeat_token = True
    with Server(repo) as server, pytest.raises(HarvestError, match="twice"):
        harvest.harvest(server.url, str(tmp_path / "h.xml"))
    assert len(repo.requests) == 2  # the second page named itself again


def test_a_page_with_a_dtd_is_refused(tmp_path):
    repo = Repository(books(1))
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>&a;</ListRecords></OAI-PMH>')
    repo.queued = [(200, bomb, {})]
    with Server(repo) as server, pytest.raises(HarvestError, match="DTD"):
        harvest.harvest(server.url, str(tmp_path / "h.xml"))


OAI_ENVELOPE = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">%s</OAI-PMH>')


@pytest.mark.parametrize("answer,message", [
    (OAI_ENVELOPE % b'<error code="badResumptionToken">expired</error>',
     "no longer knows the resumption token of page 2"),
    (OAI_ENVELOPE % b"<Identify><repositoryName>x</repositoryName></Identify>",
     "Page 2 of the harvest is not an OAI-PMH ListRecords answer"),
    (b"<html><body>Katalog sedang dalam perbaikan</body>", "Page 2 of the harvest is not well-formed XML"),
    (OAI_ENVELOPE % (b"<ListRecords>" + b" " * 30000 + b"</ListRecords>"),
     "Page 2 of the harvest is larger than 19 KB: refused"),
])
def test_a_bad_later_page_fails_the_harvest_by_its_number(tmp_path, answer, message):
    repo = Repository(books(3), page_size=2)
    first = repo.answer

    def answer_for(params):
        return (200, answer, {}) if "resumptionToken" in params else first(params)

    repo.answer = answer_for
    with Server(repo) as server, pytest.raises(HarvestError, match=message):
        harvest.harvest(server.url, str(tmp_path / "h.xml"), max_page_bytes=20000)


def test_records_in_another_format_are_counted_by_identifier(tmp_path):
    repo = Repository([*books(2), ("dc", "dc-1")])
    with Server(repo) as server:
        got = harvest.harvest(server.url, str(tmp_path / "h.xml"))
    assert got.records == 2 and got.not_marc == ["oai:test:dc-1"]


def test_a_real_repository_s_answer_is_harvested_whole(tmp_path, shared_dir):
    """A record from a real shared index's OAI-PMH repository (ReShare's,
    its GetRecord answer served as the one page of a ListRecords): every
    field arrives, its holdings of several libraries in 999 too."""
    from union_catalog import marc

    answer = (shared_dir / "data" / "marc" / "modrs-oai-getrecord-bibrecord_01.xml").read_bytes()
    repo = Repository()
    repo.queued = [(200, answer.replace(b"GetRecord>", b"ListRecords>"), {})]
    with Server(repo) as server:
        got = harvest.harvest(server.url, str(tmp_path / "h.xml"))
    assert (got.pages, got.records) == (1, 1)
    with open(tmp_path / "h.xml", "rb") as fh:
        [read] = list(marc.open_records(fh)[1])
    with open(shared_dir / "data" / "marc" / "modrs-oai-getrecord-bibrecord_01.xml", "rb") as fh:
        [original] = list(marc.open_records(fh)[1])
    assert read.control_number == "3aa73fef-09fd-4f71-9246-ec0e50d35ef4"
    assert read.record.as_json() == original.record.as_json()
    assert len(read.record.get_fields("999")) > 1


@pytest.mark.parametrize("url", ["ftp://x/oai", "oai.example.org", "http://x/oai?verb=Identify", ""])
def test_a_base_url_must_be_one(url):
    with pytest.raises(HarvestError, match="not an OAI-PMH base URL"):
        harvest.check_url(url)


def test_an_unreachable_repository_is_named(tmp_path):
    with pytest.raises(HarvestError, match="could not be reached for page 1"):
        harvest.harvest("http://127.0.0.1:9/oai", str(tmp_path / "h.xml"), sleep=no_sleep, retries=1)


# --- harvest and import, on both databases -------------------------------------

def test_a_harvest_imports_and_a_second_one_withdraws_what_the_partner_deleted(session, make, app):
    lib = make.partner("UINSU", holdings_tag="952")
    recs = books(5)
    repo = Repository(recs, page_size=2)
    with Server(repo) as server:
        run = harvest_run(session, lib, server.url)
        assert run.status == "done", run.failure
        assert run.report["harvest"] == {
            "url": server.url, "metadata_prefix": "marc21", "set": "", "pages": 3, "records": 5,
            "deleted": 0, "not_marc": 0, "not_marc_identifiers": [], "since": "", "from_dublin_core": 0,
            "response_date": "2026-12-07T00:00:00Z"}
        assert (run.read, run.imported, run.items) == (5, 5, 5)
        assert run.filename == "OAI-PMH 127.0.0.1/oai"
        assert len(live_titles(session, lib)) == 5
        repo.records = [recs[0], ("deleted", "b2"), *recs[2:]]
        again = harvest_run(session, lib, server.url)
    assert again.status == "done", again.failure
    assert (again.withdrawn, again.unchanged, again.report["harvest"]["deleted"]) == (1, 4, 1)
    assert "Pengantar Ilmu 2" not in live_titles(session, lib)


def test_a_harvest_that_fails_midway_changes_nothing(session, make, app):
    lib = make.partner("UINSU")
    with Server(Repository(books(3), page_size=2)) as server:
        assert harvest_run(session, lib, server.url).status == "done"
    before = live_titles(session, lib)
    repo = Repository([record("n1", "Fikih zakat"), *books(3)], page_size=2)
    repo.answer = _failing_after_first(repo)
    app.config["CATALOG_HARVEST_TIMEOUT"] = 5
    with Server(repo) as server:
        run = harvest_run(session, lib, server.url)
    assert run.status == "failed"
    assert "HTTP 404 for page 2" in run.failure
    assert jobs.failure_text(run) == run.failure
    assert live_titles(session, lib) == before
    assert run.stored_path is None
    # the good harvest's file is kept, as an upload is; the broken one's is not
    assert [p.name for p in jobs.uploads_dir().glob("harvest-*")] == [f"harvest-{run.id - 1}.xml"]


def _failing_after_first(repo):
    first = repo.answer

    def answer(params):
        return (404, b"gone", {}) if "resumptionToken" in params else first(params)

    return answer


def test_a_harvest_of_nothing_but_deleted_records_withdraws_nothing(session, make, app):
    lib = make.partner("UINSU")
    with Server(Repository(books(2))) as server:
        harvest_run(session, lib, server.url)
    with Server(Repository([("deleted", "a"), ("deleted", "b")])) as server:
        run = harvest_run(session, lib, server.url)
    assert run.status == "failed" and "no MARC record (2 listed as deleted" in run.failure
    assert len(live_titles(session, lib)) == 2


def test_a_failure_reads_in_indonesian(session, make, app):
    lib = make.partner("UINSU")
    with Server(Repository(books(2), formats=("oai_dc",))) as server:
        run = harvest_run(session, lib, server.url)
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("id"):
        text = jobs.failure_text(run)
    assert "'marc21'" in text and "oai_dc" in text and text != run.failure


def test_sources_fall_due_by_their_days_since_the_last_good_harvest(session, make, app):
    from datetime import timedelta

    from ill.accounts import utcnow

    a, b, c = make.partner("AAA"), make.partner("BBB"), make.partner("CCC")
    with Server(Repository(books(2))) as server:
        harvest.save_source(session, a, url=server.url, every_days=7)
        harvest.save_source(session, b, url=server.url, every_days=0)  # only when asked
        harvest.save_source(session, c, url=server.url, every_days=1)
        session.commit()
        now = utcnow()
        assert [s.partner_id for s in harvest.due(session, now)] == [a.id, c.id]
        harvest_run(session, a, server.url)
        assert [s.partner_id for s in harvest.due(session, now)] == [c.id]
        assert [s.partner_id for s in harvest.due(session, now + timedelta(days=7))] == [a.id, c.id]
        harvest.queue(session, c, url=server.url)  # waiting for the worker
        session.commit()
        assert [s.partner_id for s in harvest.due(session, now + timedelta(days=7))] == [a.id]


@pytest.mark.parametrize("field,value,message", [
    ("url", "oai.example.org", "not an OAI-PMH base URL"),
    ("prefix", "marc 21", "not a valid OAI-PMH metadataPrefix"),
    ("set_spec", "a/b", "not a valid OAI-PMH set"),
    ("every_days", "weekly", "Harvest every"),
])
def test_a_source_is_checked_before_it_is_saved(session, make, field, value, message):
    lib = make.partner("UINSU")
    args = {"url": "http://oai.example.org/cgi-bin/koha/oai.pl", "prefix": "", "set_spec": "",
            "every_days": 0, field: value}
    with pytest.raises(HarvestError, match=message):
        harvest.save_source(session, lib, **args)
    assert session.scalar(select(ImportRun.id)) is None and harvest.source_of(session, lib.id) is None


# --- the command line ------------------------------------------------------------

def test_the_command_harvests_imports_and_reports(session, make, runner, tmp_path):
    import json

    make.partner("UINSU")
    with Server(Repository([*books(3), ("deleted", "z")], page_size=2)) as server:
        out = tmp_path / "r.json"
        result = runner.invoke(args=["catalog", "harvest", "--partner", "uinsu", "--url", server.url,
                                     "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported 3" in result.output
    assert f"Harvested 3 record(s) in 2 page(s) from {server.url}; 1 listed as deleted" in result.output
    report = json.loads(out.read_text())
    assert report["imported"] == 3 and report["harvest"]["deleted"] == 1


def test_the_command_needs_an_address_and_says_why_it_failed(session, make, runner):
    lib = make.partner("UINSU")
    result = runner.invoke(args=["catalog", "harvest", "--partner", "UINSU"])
    assert result.exit_code == 1 and "UINSU has no OAI-PMH address" in result.output
    with Server(Repository(books(1))) as server:
        harvest.save_source(session, lib, url=server.url, set_spec="none-such")
        session.commit()
        result = runner.invoke(args=["catalog", "harvest", "--partner", "UINSU"])
    assert result.exit_code == 1
    assert "no records in the format 'marc21' in the set 'none-such'" in result.output
    assert session.scalar(select(ImportRun.status)) == "failed"


def test_the_daily_command_harvests_those_due(session, make, runner):
    a, b = make.partner("AAA"), make.partner("BBB")
    with Server(Repository(books(2))) as server:
        harvest.save_source(session, a, url=server.url, every_days=7)
        harvest.save_source(session, b, url=server.url)
        session.commit()
        first = runner.invoke(args=["catalog", "harvest", "--due"])
        second = runner.invoke(args=["catalog", "harvest", "--due"])
    assert first.exit_code == 0, first.output
    assert "AAA OAI-PMH 127.0.0.1/oai: done read 2, imported 2" in first.output
    assert "BBB" not in first.output
    assert second.exit_code == 0 and second.output == ""
    assert live_titles(session, a) == ["Pengantar Ilmu 1", "Pengantar Ilmu 2"]


# --- the imports page ------------------------------------------------------------

def test_a_librarian_sets_the_address_and_harvests_from_the_page(client, make, session):
    lib = make.partner("UINSU")
    user = make.user("librarian", library=lib)
    make.commit()
    login(client, user.email)
    with Server(Repository(books(3), page_size=2)) as server:
        saved = client.post("/catalog/imports/harvest-source",
                            data={"url": server.url, "metadata_prefix": "marc21", "set": "",
                                  "every_days": "7"})
        assert saved.status_code == 303
        page = client.get(saved.headers["Location"]).get_data(as_text=True)
        assert server.url in page and "Panen sekarang" in page  # the default language
        source = harvest.source_of(session, lib.id)
        assert (source.every_days, source.updated_by) == (7, user.email)
        run = finish(session, client.post("/catalog/imports/harvest", data={"partner": "UINSU"}))
    assert run.status == "done", run.failure
    assert (run.imported, run.user_id) == (3, user.id)
    shown = client.get(f"/catalog/imports/{run.id}").get_data(as_text=True)
    assert "Dipanen 3 cantuman dalam 2 halaman" in shown and server.url in shown
    listing = client.get("/catalog/imports/").get_data(as_text=True)
    assert "OAI-PMH 127.0.0.1/oai" in listing
    # the source's row links its last harvest, with how it ended
    row = listing[listing.index(server.url):]
    row = row[:row.index("</tr>")]
    assert f"/catalog/imports/{run.id}" in row and "selesai" in row


def test_a_bad_address_is_refused_by_name_and_nothing_is_saved(client, make, session):
    lib = make.partner("UINSU")
    user = make.user("librarian", library=lib)
    make.commit()
    login(client, user.email, headers={"Accept-Language": "id"})
    resp = client.post("/catalog/imports/harvest-source", data={"url": "katalog.uinsu.ac.id/oai"},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "katalog.uinsu.ac.id/oai" in resp.get_json()["error"]["message"]
    assert harvest.source_of(session, lib.id) is None


def test_only_that_library_and_coordinators_harvest_it(client, make, session):
    own, other = make.partner("UINSU"), make.partner("UGM")
    harvest.save_source(session, own, url="http://127.0.0.1:9/oai")
    stranger = make.user("librarian", library=other)
    patron = make.user("patron", library=own)
    make.commit()
    login(client, stranger.email)
    assert client.post("/catalog/imports/harvest", data={"partner": "UINSU"}).status_code == 403
    assert client.post("/catalog/imports/harvest-source",
                       data={"partner": "UINSU", "url": "http://evil.example/oai"}).status_code == 403
    switch_to(client, patron.email)
    assert client.post("/catalog/imports/harvest", data={"partner": "UINSU"}).status_code == 403
    assert session.scalar(select(ImportRun.id)) is None
    assert harvest.source_of(session, own.id).url == "http://127.0.0.1:9/oai"


def test_tick_deletes_what_an_interrupted_harvest_left_and_keeps_the_rest(app, runner, make, session):
    lib = make.partner("UGM")
    make.commit()
    folder = jobs.uploads_dir()
    dead = harvest.queue(session, lib, url="http://127.0.0.1:9/oai", status="running")
    dead.worker = jobs.worker_name().rsplit(":", 1)[0] + ":999999999"  # a process gone
    running = harvest.queue(session, lib, url="http://127.0.0.1:9/oai", status="running")
    running.worker = jobs.worker_name()
    kept = harvest.queue(session, lib, url="http://127.0.0.1:9/oai", status="done")
    session.commit()
    for run in (dead, running, kept):
        (folder / f"harvest-{run.id}.xml").write_text("<collection/>")
    kept.stored_path = str(folder / f"harvest-{kept.id}.xml")
    session.commit()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 harvested file(s) of interrupted harvests deleted" in result.output
    assert sorted(p.name for p in folder.glob("harvest-*")) == sorted([f"harvest-{running.id}.xml",
                                                                        f"harvest-{kept.id}.xml"])


def test_a_scheduled_harvest_that_fails_tells_the_library_and_the_coordinators(session, make, runner):
    from ill import notify

    lib = make.partner("UGM", name="Perpustakaan UGM")
    librarian = make.user("librarian", library=lib)
    other_library = make.user("librarian", library=make.partner("PNRI"))
    coordinator = make.user("coordinator")
    make.commit()
    with Server(Repository(books(2), formats=("oai_dc",))) as server:
        harvest.save_source(session, lib, url=server.url, every_days=1)
        session.commit()
        result = runner.invoke(args=["catalog", "harvest", "--due"])
    assert result.exit_code == 1 and "UGM" in result.output and "failed" in result.output
    notices = {n.user_id: n for n in session.scalars(select(notify.Notice))}
    assert set(notices) == {librarian.id, coordinator.id}
    assert other_library.id not in notices
    body = notices[librarian.id].body
    assert "Perpustakaan UGM (UGM)" in notices[librarian.id].subject
    assert server.url in body and "oai_dc" in body  # why, in the reader's language
    run = session.scalar(select(ImportRun))
    assert notices[coordinator.id].link.endswith(f"/catalog/imports/{run.id}")
    mails = session.scalars(select(notify.OutboxMail)).all()
    assert sorted(m.to_addr for m in mails) == sorted([librarian.email, coordinator.email])


def test_a_repository_says_what_it_is_and_offers(tmp_path):
    with Server(Repository(books(1), formats=("marc21", "oai_dc"))) as server:
        found = harvest.identify(server.url)
    assert found == {"name": "Katalog Uji", "deleted_record": "transient", "granularity": "YYYY-MM-DDThh:mm:ssZ",
                     "formats": ["marc21", "oai_dc"], "offers_prefix": True}
    with pytest.raises(HarvestError, match="could not be reached"):
        harvest.identify("http://127.0.0.1:9/oai")


def test_saving_an_address_checks_it_at_once_and_saves_it_either_way(client, make, session):
    lib = make.partner("UINSU")
    user = make.user("librarian", library=lib)
    make.commit()
    login(client, user.email)
    english = {"Accept-Language": "en"}

    def save(url, prefix="marc21"):
        resp = client.post("/catalog/imports/harvest-source", headers=english,
                           data={"url": url, "metadata_prefix": prefix, "every_days": "0"})
        assert resp.status_code == 303
        return client.get(resp.headers["Location"], headers=english).get_data(as_text=True)

    with Server(Repository(books(1), formats=("marcxml", "oai_dc"))) as server:
        page = save(server.url, "marcxml")
        assert "The repository answers: Katalog Uji, with records in &#39;marcxml&#39;." in page
        page = save(server.url, "marc21")
        assert "does not give records in the format &#39;marc21&#39;. It gives: marcxml, oai_dc." in page
    page = save("http://127.0.0.1:9/oai")
    assert "The address is saved, but the repository did not answer as it should" in page
    assert "could not be reached" in page
    assert harvest.source_of(session, lib.id).url == "http://127.0.0.1:9/oai"


def test_a_repository_of_dublin_core_only_is_harvested_through_the_crosswalk(session, make, app, client):
    """An institutional repository (EPrints, DSpace) lists its theses in
    oai_dc only: they come in as MARC records, theses, found by search."""
    lib = make.partner("UINSU")
    theses = [("dc", "eprints-1", {
        "title": "Konsep riba dalam fikih muamalah", "creator": ["Nasution, Ahmad", "Lubis, Siti"],
        "contributor": "Harahap, Syahrin", "subject": ["Riba", "Fikih muamalah"],
        "description": "Skripsi ini membahas riba.", "publisher": "UIN Sumatera Utara", "date": "2019-08-12",
        "type": ["Thesis", "NonPeerReviewed"], "identifier": "http://repository.uinsu.ac.id/1/",
        "language": "id"}),
        ("dc", "eprints-2", {"title": "Zakat profesi", "creator": "Siregar, Budi", "date": "2021",
                             "type": "Skripsi", "language": "Indonesian"}),
        ("dc", "eprints-3", {"creator": "No title at all"})]  # nothing to catalogue
    with Server(Repository(theses, page_size=2, formats=("oai_dc",))) as server:
        run = harvest_run(session, lib, server.url, prefix="oai_dc")
    assert run.status == "done", run.failure
    h = run.report["harvest"]
    assert (h["records"], h["from_dublin_core"], h["not_marc"]) == (2, 2, 1)
    session.expire_all()
    rec = session.scalar(select(SourceRecord).where(SourceRecord.harvest_identifier == "oai:test:eprints-1"))
    facts = rec.match_data
    assert (rec.title, rec.author, rec.year) == ("Konsep riba dalam fikih muamalah", "Nasution, Ahmad", 2019)
    assert facts["format"] == "thesis" and facts.get("language") == "ind"
    tags = [tag for f in rec.marc["fields"] for tag in f]
    assert {"100", "245", "264", "502", "520", "653", "700", "856"} <= set(tags)
    found = client.get("/api/v1/search", query_string={"q": "riba", "format": "thesis"}).get_json()
    assert [r["title"] for r in found["results"]] == ["Konsep riba dalam fikih muamalah"]
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    shown = client.get(f"/catalog/imports/{run.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 of them came in Dublin Core only and were converted to MARC" in shown
