"""Search alerts: a signed-in user follows a search, and the daily tick
tells them of the union records new to the network that it finds (both
engines)."""
from __future__ import annotations

from sqlalchemy import select

from ill import notify
from tests.factories import bearer, login
from union_catalog import alerts
from union_catalog.models import SearchAlert

EN = {"Accept-Language": "en"}


def _tick(runner):
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    return result.output


def _notices(session, user, kind="search_alert"):
    session.expire_all()
    return session.scalars(select(notify.Notice).where(notify.Notice.user_id == user.id,
                                                      notify.Notice.kind == kind)
                           .order_by(notify.Notice.id)).all()


def test_a_reader_follows_a_search_from_its_page(client, make, session):
    make.search_cluster(title="Hukum adat Aceh", holdings={"UINSU": ["available"]})
    patron = make.user("patron", library="UINSU", locale="en")
    make.commit()
    page = client.get("/catalog/search?q=hukum adat", headers=EN).get_data(as_text=True)
    assert "to be told of new records this search finds" in page and 'id="search-alert"' not in page
    login(client, patron.email)
    page = client.get("/catalog/search?q=hukum+adat&library=UINSU&sort=title", headers=EN).get_data(as_text=True)
    assert 'id="search-alert"' in page and 'value="library=UINSU&amp;q=hukum+adat"' in page
    resp = client.post("/catalog/alerts/", data={"query": "library=UINSU&q=hukum+adat",
                                                 "next": "/catalog/search?q=hukum+adat&library=UINSU"},
                       headers=EN, follow_redirects=True)
    assert "you will be told of the union records new to the network" in resp.get_data(as_text=True)
    again = client.post("/catalog/alerts/", data={"query": "q=hukum+adat&library=UINSU"}, headers=EN,
                        follow_redirects=True).get_data(as_text=True)
    assert "You follow this search already." in again
    [alert] = session.scalars(select(SearchAlert)).all()
    assert (alert.user_id, alert.label) == (patron.id, "hukum adat · UINSU")
    listed = client.get("/catalog/alerts/", headers=EN).get_data(as_text=True)
    assert "hukum adat · UINSU" in listed and "Stop following" in listed
    # a search of nothing is not followed
    bad = client.post("/catalog/alerts/", data={"query": "sort=newest", "next": "/catalog/search"}, headers=EN,
                      follow_redirects=True).get_data(as_text=True)
    assert "Search for something first" in bad
    assert len(session.scalars(select(SearchAlert)).all()) == 1


def test_the_tick_tells_of_what_is_new_and_only_once(client, make, session, runner):
    old = make.search_cluster(title="Sejarah hukum Islam", holdings={"UGM": ["available"]})
    patron = make.user("patron", library="UINSU", locale="en")
    make.commit()
    alert, made = alerts.create(session, patron, {"q": "hukum islam"})
    session.commit()
    assert made and alert.seen_up_to == old.id
    _tick(runner)
    assert _notices(session, patron) == []  # what was there already is no news
    new = make.search_cluster(title="Hukum Islam di Indonesia", author="Azizy", year=2004,
                              holdings={"UINSU": ["available"]})
    make.search_cluster(title="Ilmu perpustakaan", holdings={"UINSU": ["available"]})  # another search's
    make.commit()
    output = _tick(runner)
    assert "1 alerts looked at: 1 told of 1 new union records" in output
    [notice] = _notices(session, patron)
    assert notice.subject == "New in the catalogue: hukum islam"
    assert "Hukum Islam di Indonesia / Azizy (2004)" in notice.body
    assert f"/catalog/records/{new.id}" in notice.body and "/catalog/alerts/" in notice.body
    assert "sort=newest" in notice.link and "q=hukum+islam" in notice.link
    session.expire_all()
    alert = session.get(SearchAlert, alert.id)
    assert (alert.told, alert.seen_up_to) == (1, new.id + 1) and alert.last_told_at is not None
    _tick(runner)
    assert len(_notices(session, patron)) == 1  # told once


def test_many_new_records_are_named_ten_and_counted(make, session, runner):
    patron = make.user("patron", library="UINSU", locale="en")
    make.commit()
    alerts.create(session, patron, {"subject": "zakat"})
    session.commit()
    for n in range(12):
        make.search_cluster(title=f"Zakat jilid {n + 1}", subjects=["Zakat"], holdings={"UGM": []})
    make.commit()
    _tick(runner)
    [notice] = _notices(session, patron)
    assert "finds 12 union records new to the network" in notice.body
    assert notice.body.count("/catalog/records/") == 10 and "... and 2 more." in notice.body
    assert "Zakat jilid 12" in notice.body and "Zakat jilid 1\n" not in notice.body  # newest first


def test_alerts_over_the_api_are_each_users_own(client, make, session):
    a, b = make.user("patron", library="UINSU"), make.user("librarian", library="UGM")
    ta, tb = make.token(a), make.token(b)
    make.commit()
    resp = client.post("/api/v1/search-alerts", json={"query": {"author": "Hamka", "language": ["ind"]}},
                       headers=bearer(ta))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["query"] == "author=Hamka&language=ind" and body["label"] == "Hamka · ind"
    assert "sort=newest" in body["search_url"] and body["told"] == 0
    same = client.post("/api/v1/search-alerts", json={"query": "language=ind&author=Hamka&sort=title"},
                       headers=bearer(ta))
    assert same.status_code == 200 and same.get_json()["id"] == body["id"]
    assert [x["id"] for x in client.get("/api/v1/search-alerts", headers=bearer(ta)).get_json()["alerts"]] == [
        body["id"]]
    assert client.get("/api/v1/search-alerts", headers=bearer(tb)).get_json()["alerts"] == []
    # another's alert is not found, let alone stopped
    assert client.delete(f"/api/v1/search-alerts/{body['id']}", headers=bearer(tb)).status_code == 404
    assert client.delete(f"/api/v1/search-alerts/{body['id']}", headers=bearer(ta)).status_code == 204
    assert session.scalars(select(SearchAlert)).all() == []
    bad = client.post("/api/v1/search-alerts", json={"query": {"q": "fiqh", "year_from": "abc"}},
                      headers={**bearer(ta), **EN})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "year_from"
    assert client.post("/api/v1/search-alerts", json={"query": {}}, headers=bearer(ta)).status_code == 400
    assert client.post("/api/v1/search-alerts", json=["q"], headers=bearer(ta)).status_code == 400
    assert client.get("/api/v1/search-alerts").status_code == 401


def test_a_reader_follows_at_most_so_many_searches(client, make, session):
    patron = make.user("patron", library="UINSU")
    token = make.token(patron)
    make.commit()
    for n in range(alerts.MAX_PER_USER):
        alerts.create(session, patron, {"q": f"kata{n}"})
    session.commit()
    resp = client.post("/api/v1/search-alerts", json={"query": {"q": "satu lagi"}}, headers={**bearer(token), **EN})
    assert resp.status_code == 409 and "stop following one first" in resp.get_json()["error"]["message"]


def test_the_page_stops_following_in_either_language(client, make, session):
    patron = make.user("patron", library="UINSU")
    other = make.user("patron", library="UINSU")
    make.commit()
    mine, _ = alerts.create(session, patron, {"q": "tasawuf"})
    theirs, _ = alerts.create(session, other, {"q": "tasawuf"})
    session.commit()
    login(client, patron.email)
    page = client.get("/catalog/alerts/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Penelusuran yang saya ikuti" in page and "tasawuf" in page
    assert client.post(f"/catalog/alerts/{theirs.id}/delete").status_code == 404
    client.post(f"/catalog/alerts/{mine.id}/delete")
    assert [a.id for a in session.scalars(select(SearchAlert))] == [theirs.id]
    assert "Searches I follow" in client.get("/account", headers=EN).get_data(as_text=True)


def test_a_search_too_long_to_keep_is_refused_by_name(client, make):
    patron = make.user("patron", library="UINSU")
    token = make.token(patron)
    make.commit()
    words = " ".join(["Miṣbāḥ"] * 70)  # each letter with a mark takes nine characters in a query string
    resp = client.post("/api/v1/search-alerts", headers={**bearer(token), **EN},
                       json={"query": {"q": words, "title": words}})
    assert resp.status_code == 400 and "too long to follow" in resp.get_json()["error"]["message"]
