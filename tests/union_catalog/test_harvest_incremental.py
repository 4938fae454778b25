"""Harvesting only what changed since the last harvest (OAI-PMH ``from``),
from a real local HTTP server, on both databases: the changes imported,
the deletions withdrawn, nothing else touched; and when a harvest is
incremental at all (``harvest.plan``)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ill.accounts import utcnow
from tests.factories import login
from union_catalog import harvest, jobs
from union_catalog.models import ImportRun, SourceRecord

from .marcdata import books
from .oai_server import Repository, Server, Stamped
from .runs import finish

# records made before DAY0; a first harvest on DAY1; changes on DAY2; the next harvest on DAY3
DAY0, DAY1, DAY2, DAY3 = ("2026-11-30T08:00:00Z", "2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z",
                          "2026-12-03T08:00:00Z")


def stamped(records, datestamp=DAY0):
    return [Stamped(f"oai:uinsu:{n}", datestamp, r) for n, r in enumerate(records, start=1)]


def live(session, partner) -> dict[str, str]:
    """{harvest identifier: title} of the partner's live records."""
    session.expire_all()
    return dict(session.execute(select(SourceRecord.harvest_identifier, SourceRecord.title).where(
        SourceRecord.partner_id == partner.id, SourceRecord.withdrawn_at.is_(None))).all())


def run_source(session, source, **kw):
    run = harvest.queue_source(session, source, status="running", **kw)
    session.commit()
    return jobs.execute(session, run.id)


@pytest.fixture
def repo():
    repository = Repository(stamped(books(5)), page_size=2, deleted_record="persistent")
    repository.now = DAY1
    return repository


@pytest.fixture
def source(session, make, repo):
    lib = make.partner("UINSU", holdings_tag="952")
    with Server(repo) as server:
        src = harvest.save_source(session, lib, url=server.url, incremental=True, full_every_days=30)
        src.deleted_record = "persistent"  # as the page's check of the address finds it
        session.commit()
        yield src, server


def test_the_first_harvest_is_full_and_the_next_brings_only_the_changes(session, source, repo):
    src, server = source
    first = run_source(session, src)
    assert first.status == "done", first.failure
    assert first.harvest["since"] == "" and first.harvest["response_date"] == repo.now
    assert len(live(session, src.partner)) == 5
    assert "from" not in repo.requests[-1]

    # a day later: record 2 changed, record 4 deleted; the rest not given again
    recs = books(5)
    recs[1]["245"]["a"] = "Pengantar Ilmu 2, edisi revisi"
    repo.records[1] = Stamped("oai:uinsu:2", DAY2, recs[1])
    repo.records[3] = Stamped("oai:uinsu:4", DAY2, None)
    repo.now = DAY3
    second = run_source(session, src)
    assert second.status == "done", second.failure
    assert second.harvest["since"] == first.harvest["response_date"]
    asked = [r for r in repo.requests if r.get("verb") == "ListRecords"][-1]
    assert asked["from"] == DAY1
    report = second.report
    assert report["incremental"] is True and report["harvest"]["records"] == 1
    assert (second.read, report["updated"], second.withdrawn, report["listed_deleted"]) == (1, 1, 1, 1)
    titles = live(session, src.partner)
    assert set(titles) == {"oai:uinsu:1", "oai:uinsu:2", "oai:uinsu:3", "oai:uinsu:5"}
    assert titles["oai:uinsu:2"].startswith("Pengantar Ilmu 2, edisi revisi")


def test_nothing_changed_is_a_harvest_that_changes_nothing(session, source, repo):
    src, server = source
    assert run_source(session, src).status == "done"
    repo.now = DAY3  # no record changed since DAY1: noRecordsMatch
    again = run_source(session, src)
    assert again.status == "done", again.failure
    assert (again.read, again.imported, again.withdrawn) == (0, 0, 0)
    assert len(live(session, src.partner)) == 5


def test_a_record_sent_again_under_another_001_replaces_the_old_one(session, source, repo):
    src, server = source
    assert run_source(session, src).status == "done"
    moved = books(5)[2]
    moved["001"].data = "NEW-3"
    repo.records = [Stamped("oai:uinsu:3", DAY3, moved)]
    repo.now = DAY3
    again = run_source(session, src)
    assert again.status == "done", again.failure
    assert (again.report["inserted"], again.withdrawn) == (1, 1)
    session.expire_all()
    keys = session.scalars(select(SourceRecord.record_key).where(
        SourceRecord.harvest_identifier == "oai:uinsu:3", SourceRecord.withdrawn_at.is_(None))).all()
    assert keys == ["NEW-3"] and len(live(session, src.partner)) == 5


def test_deletions_beyond_the_limit_stop_an_incremental_harvest_too(session, source, repo, app):
    src, server = source
    app.config.update(CATALOG_WITHDRAW_MIN=2, CATALOG_WITHDRAW_PERCENT=20)
    assert run_source(session, src).status == "done"
    repo.records = [Stamped(f"oai:uinsu:{n}", DAY3, None) for n in (1, 2, 3)]
    repo.now = DAY3
    stopped = run_source(session, src)
    assert stopped.status == "failed" and jobs.failure_kind(stopped) == "too_many_withdrawals"
    assert len(live(session, src.partner)) == 5


def test_a_day_granular_repository_is_asked_from_a_day(session, source, repo):
    src, server = source
    repo.granularity = "YYYY-MM-DD"
    assert run_source(session, src).status == "done"
    repo.records[0] = Stamped("oai:uinsu:1", "2026-12-02", books(5)[0])
    second = run_source(session, src)
    assert second.status == "done", second.failure
    assert [r for r in repo.requests if r.get("verb") == "ListRecords"][-1]["from"] == "2026-12-01"
    assert second.read == 1


def test_when_a_harvest_is_incremental(session, source, repo):
    src, server = source
    now = utcnow()
    assert harvest.plan(session, src, now) == ""  # nothing harvested yet: full
    first = run_source(session, src)
    assert harvest.plan(session, src, now) == first.harvest["response_date"]
    # the last full harvest too old: full again
    assert harvest.plan(session, src, now + timedelta(days=31)) == ""
    # a repository that forgets its deletions: always full
    src.deleted_record = "no"
    assert harvest.plan(session, src, now) == ""
    src.deleted_record = "persistent"
    # not asked for
    src.incremental = False
    assert harvest.plan(session, src, now) == ""
    src.incremental = True
    # another set since: full
    src.set_spec = "buku"
    assert harvest.plan(session, src, now) == ""
    src.set_spec = ""
    # asked for in full
    assert run_source(session, src, full=True).harvest["since"] == ""
    assert harvest.plan(session, src, now) != ""


def test_the_page_sets_an_incremental_source_and_harvests_all_when_asked(client, make, session, repo):
    lib = make.partner("UINSU")
    user = make.user("librarian", library=lib)
    make.commit()
    login(client, user.email)
    with Server(repo) as server:
        saved = client.post("/catalog/imports/harvest-source", headers={"Accept-Language": "en"},
                            data={"url": server.url, "metadata_prefix": "marc21", "every_days": "1",
                                  "incremental": "1", "full_every_days": "14"})
        page = client.get(saved.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
        source = harvest.source_of(session, lib.id)
        assert (source.incremental, source.full_every_days, source.deleted_record) == (True, 14, "persistent")
        assert "changes only; all every 14 days" in page and "Harvest all now" in page
        first = finish(session, client.post("/catalog/imports/harvest", data={"partner": "UINSU"}))
        assert first.status == "done" and first.harvest["since"] == ""
        second = finish(session, client.post("/catalog/imports/harvest", data={"partner": "UINSU"}))
        assert second.status == "done" and second.harvest["since"] == repo.now
        shown = client.get(f"/catalog/imports/{second.id}", headers={"Accept-Language": "en"}).get_data(
            as_text=True)
        assert f"what changed since {repo.now}" in shown and 'id="incremental-note"' in shown
        full = finish(session, client.post("/catalog/imports/harvest", data={"partner": "UINSU", "full": "1"}))
        assert full.status == "done" and full.harvest["since"] == ""
        # a repository that keeps no deletions: said at once, and harvests stay full
        repo.deleted_record = "no"
        client.post("/catalog/imports/harvest-source", headers={"Accept-Language": "en"},
                    data={"url": server.url, "metadata_prefix": "marc21", "incremental": "1"})
        page = client.get("/catalog/imports/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "does not keep its deletions" in page
        assert "changes only asked, but the repository does not say it keeps its deletions" in page
        assert harvest.plan(session, harvest.source_of(session, lib.id), utcnow()) == ""


def test_the_command_harvests_the_changes_or_all_when_told(session, source, repo, runner):
    src, server = source
    assert runner.invoke(args=["catalog", "harvest", "--partner", "UINSU"]).exit_code == 0
    result = runner.invoke(args=["catalog", "harvest", "--partner", "UINSU"])
    assert result.exit_code == 0, result.output
    runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [bool(r.harvest["since"]) for r in runs] == [False, True]
    assert runner.invoke(args=["catalog", "harvest", "--partner", "UINSU", "--full"]).exit_code == 0
    session.expire_all()
    assert session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first().harvest["since"] == ""
