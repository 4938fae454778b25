"""Copies' statuses between exports: a library's system sends what changed,
by barcode; the copies, the search and the record's freshness follow, and a
line that cannot be applied is named and changes nothing (both engines)."""
from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import bearer, login
from union_catalog import statuses
from union_catalog.models import Item, ItemStatus, StatusUpdate

EN = {"Accept-Language": "en"}


def _network(make):
    """UGM holds 'Fiqh zakat' in two copies, both on the shelf; UINSU one."""
    rec = make.search_cluster(title="Fiqh zakat", holdings={"UGM": ["available", "available"],
                                                           "UINSU": ["available"]})
    make.commit()
    return rec


def _statuses(session, code_prefix):
    session.expire_all()
    return sorted((i.barcode, i.status) for i in session.scalars(select(Item)) if i.barcode.startswith(code_prefix))


def test_the_statuses_a_library_sends_change_its_copies_and_the_search(client, make, session):
    rec = _network(make)
    librarian = make.user("librarian", library="UGM")
    token = make.token(librarian)
    make.commit()
    ugm1, ugm2 = (f"UGM{rec.id:05d}{k}" for k in (1, 2))
    body = {"items": [{"barcode": ugm1, "status": "Dipinjam"}, {"barcode": ugm2, "status": "available"},
                      {"barcode": "NOPE1", "status": "on_loan"}, {"barcode": ugm2, "status": "entah"},
                      {"barcode": "", "status": "lost"}]}
    resp = client.post("/api/v1/catalog/item-statuses/UGM", json=body, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    assert (report["read"], report["changed"], report["unchanged"], report["problem_count"]) == (5, 1, 1, 3)
    assert [(p["line"], p["problem"]) for p in report["problems"]] == [
        (3, "barcode_unknown"), (4, "status_unknown"), (5, "no_barcode")]
    assert _statuses(session, "UGM") == [(ugm1, "on_loan"), (ugm2, "available")]
    hit = client.get("/api/v1/search?q=fiqh zakat").get_json()["results"][0]
    assert {h["library"]: h["available"] for h in hit["holdings"]} == {"UGM": 1, "UINSU": 1}
    holdings = {h["library"]: h for h in client.get(f"/api/v1/records/{rec.id}").get_json()["holdings"]}
    assert holdings["UGM"]["as_of"] is not None and holdings["UINSU"]["as_of"] is None
    [update] = session.scalars(select(StatusUpdate)).all()
    assert (update.read, update.changed, update.problems, update.user_id) == (5, 1, 3, librarian.id)


def test_only_the_librarys_own_copies_and_only_its_staff(client, make, session):
    rec = _network(make)
    other = make.user("librarian", library="UINSU")
    patron = make.user("patron", library="UGM")
    coordinator = make.user("coordinator")
    to, tp, tc = make.token(other), make.token(patron), make.token(coordinator)
    make.commit()
    uinsu = f"UINSU{rec.id:05d}1"
    body = {"items": [{"barcode": uinsu, "status": "lost"}]}
    assert client.post("/api/v1/catalog/item-statuses/UGM", json=body, headers=bearer(to)).status_code == 403
    assert client.post("/api/v1/catalog/item-statuses/UGM", json=body, headers=bearer(tp)).status_code == 403
    # UINSU's barcode is no copy of UGM's, even for a coordinator
    report = client.post("/api/v1/catalog/item-statuses/UGM", json=body, headers=bearer(tc)).get_json()
    assert report["changed"] == 0 and report["problems"][0]["problem"] == "barcode_unknown"
    assert _statuses(session, "UINSU") == [(uinsu, "available")]
    assert client.post("/api/v1/catalog/item-statuses/NOPE", json=body, headers=bearer(tc)).status_code == 404


def test_a_csv_from_the_imports_page(client, make, session):
    rec = _network(make)
    librarian = make.user("librarian", library="UGM")
    make.commit()
    login(client, librarian.email)
    page = client.get("/catalog/imports/", headers=EN).get_data(as_text=True)
    assert "statuses between exports" in page
    data = f"item_code;item_status_name\nUGM{rec.id:05d}1;Missing\nUGM{rec.id:05d}2;Rusak\n".encode()
    resp = client.post("/catalog/imports/statuses", data={"statuses": (io.BytesIO(data), "status.csv")},
                       content_type="multipart/form-data", headers=EN, follow_redirects=True)
    assert "UGM: 2 statuses read, 2 copies changed, 0 already so, 0 lines not applied." in resp.get_data(as_text=True)
    assert [s for _b, s in _statuses(session, "UGM")] == ["lost", "damaged"]
    bad = client.post("/catalog/imports/statuses", data={"statuses": (io.BytesIO(b"title,year\nx,1\n"), "s.csv")},
                      content_type="multipart/form-data", headers=EN, follow_redirects=True)
    assert "Nothing was changed: The file needs a column of barcodes" in bad.get_data(as_text=True)
    assert [s for _b, s in _statuses(session, "UGM")] == ["lost", "damaged"]


def test_from_the_command_line(runner, make, session, tmp_path):
    rec = _network(make)
    path = tmp_path / "statuses.csv"
    path.write_text(f"barcode,status\nUGM{rec.id:05d}1,on loan\nUGM99,available\n")
    result = runner.invoke(args=["catalog", "statuses", "--partner", "UGM", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 statuses read, 1 copies changed" in result.output and "UGM99" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(args=["catalog", "statuses", "--partner", "UGM", str(empty)])
    assert result.exit_code == 1 and "Nothing was changed" in result.output


@given(st.lists(st.tuples(st.sampled_from(["A1", "A2", "B1", "", "ZZ"]),
                          st.sampled_from(list(ItemStatus.ALL) + ["Dipinjam", "entah", ""])), max_size=12))
def test_reading_a_csv_keeps_every_line(pairs):
    text = "barcode,status\n" + "".join(f"{b},{s}\n" for b, s in pairs)
    lines = statuses.read_csv(text.encode())
    kept = [(b, s) for b, s in pairs if b or s]
    assert [(line.barcode, line.status) for line in lines] == kept


def test_the_imports_page_lists_the_statuses_received(client, make, session):
    rec = _network(make)
    librarian = make.user("librarian", library="UGM", name="Wati")
    other = make.user("librarian", library="UINSU")
    make.commit()
    from agreements import partners as partner_service

    statuses.apply(session, partner_service.by_code(session, "UGM"),
                   [statuses.Line(1, f"UGM{rec.id:05d}1", "on_loan"), statuses.Line(2, "X", "lost")], librarian)
    session.commit()
    login(client, librarian.email)
    page = client.get("/catalog/imports/", headers=EN).get_data(as_text=True)
    assert 'id="status-updates"' in page and "Wati" in page
    client.post("/logout")
    login(client, other.email)  # another library's updates are not UINSU's to see
    assert 'id="status-updates"' not in client.get("/catalog/imports/", headers=EN).get_data(as_text=True)
