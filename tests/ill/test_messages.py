"""A word on a request without changing it: the patron to their library, the
borrowing library to the lender or its patron, the lender to the borrowing
library. Messages between the two libraries are theirs: the patron does not
see them."""

from __future__ import annotations

from sqlalchemy import select

from ill.notify import Notice
from tests.ill.test_loan_pages import _login


def _told(net, kind: str) -> list[Notice]:
    net.session.expire_all()
    return list(net.session.scalars(select(Notice).where(Notice.kind == kind).order_by(Notice.id)))


def _messages(net, who, rid) -> list[str]:
    return [e["note"] for e in net.get(who, rid).get_json()["events"] if e["action"] == "message"]


def test_each_party_writes_and_the_other_is_told(net):
    rid = net.create().get_json()["id"]
    before = net.get("a", rid).get_json()
    assert before["status"] == "requested" and before["current_lender"] == "A"

    r = net.act("a", rid, "message", note="Edisi ini agak rapuh: baca di tempat saja?")
    assert r.status_code == 200
    after = net.get("a", rid).get_json()
    # the request stays as it was: an answer the lender or the borrower was writing meanwhile is not stale
    assert after["status"] == "requested" and after["version"] == before["version"]
    (home,) = _told(net, "request_message")
    assert home.user_id == net.users["home"].id and "rapuh" in home.body and "Siti" in home.body
    assert "Perpustakaan A writes" in home.body

    assert net.act("home", rid, "message", note="Boleh, kami sampaikan ke pemustaka.").status_code == 200
    to_a = _told(net, "request_message")[-1]
    assert to_a.user_id == net.users["a"].id and "Perpustakaan HOME writes" in to_a.body and "Siti" not in to_a.body

    assert net.act("home", rid, "message", to="patron", note="Buku hanya boleh dibaca di tempat.").status_code == 200
    (patron,) = _told(net, "request_message_patron")
    assert patron.user_id == net.users["patron"].id and "dibaca di tempat" in patron.body

    assert net.act("patron", rid, "message", note="Baik, saya baca di perpustakaan.").status_code == 200
    from_patron = _told(net, "request_message")[-1]
    assert from_patron.user_id == net.users["home"].id and "Siti writes" in from_patron.body

    # the libraries' own exchange stays between them
    everything = ["Edisi ini agak rapuh: baca di tempat saja?", "Boleh, kami sampaikan ke pemustaka.",
                  "Buku hanya boleh dibaca di tempat.", "Baik, saya baca di perpustakaan."]
    assert _messages(net, "home", rid) == everything and _messages(net, "a", rid) == everything
    assert _messages(net, "patron", rid) == everything[2:]
    _login(net, "patron")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "dibaca di tempat" in page and "rapuh" not in page and "kami sampaikan" not in page
    assert 'name="to"' not in page  # the patron writes to their library only
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "rapuh" in page and '<select id="message-to" name="to">' in page


def test_a_message_refused_leaves_the_request_as_it_was(net):
    rid = net.create().get_json()["id"]
    version = net.get("a", rid).get_json()["version"]
    r = net.act("a", rid, "message", note="   ")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "note"
    r = net.act("home", rid, "message", to="everyone", note="Halo")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "to"
    for outsider in ("b", "x"):  # not their request
        r = net.act(outsider, rid, "message", version=version, note="Kami juga punya")
        assert r.status_code in (403, 404), outsider
    assert net.get("a", rid).get_json()["version"] == version and _told(net, "request_message") == []
    # a citation request no lender has yet: nobody to write to but the patron
    cited = net.create(record_id=None, citation={"title": "Naskah Melayu"}).get_json()["id"]
    r = net.act("home", cited, "message", note="Sedang kami cari")
    assert r.status_code == 409 and "nobody to write to" in r.get_json()["error"]["message"]
    assert net.act("home", cited, "message", to="patron", note="Sedang kami cari").status_code == 200
    # a closed request takes no more messages
    assert net.act("patron", rid, "cancel", reason="found it").status_code == 200
    assert net.act("patron", rid, "message", note="Terima kasih").status_code == 409


def test_a_library_s_own_note_is_its_staff_s_alone(net):
    """A note a library keeps on a request ("patron phoned: collects Monday"):
    its own staff see it, on the page and in the API; the other library, the
    patron and the patron's data download do not; nobody is told; the request
    does not change."""
    rid = net.create().get_json()["id"]
    lender = net.get("home", rid).get_json()["current_lender"].lower()
    before = net.get("home", rid).get_json()
    r = net.act("home", rid, "staff_note", note="Pasien telepon: diambil Senin")
    assert r.status_code == 200
    after = net.get("home", rid).get_json()
    assert after["version"] == before["version"] and after["status"] == before["status"]
    assert net.act(lender, rid, "staff_note", note="Rak 3, lantai 2").status_code == 200
    assert net.act("home", rid, "staff_note").status_code == 400  # a note needs words
    assert net.act("patron", rid, "staff_note", note="x").status_code in (403, 409)

    def notes(who):
        return [e["note"] for e in net.get(who, rid).get_json()["events"] if e["action"] == "staff_note"]

    assert notes("home") == ["Pasien telepon: diambil Senin"]
    assert notes(lender) == ["Rak 3, lantai 2"]
    assert notes("patron") == []
    assert "Pasien telepon" not in str(net.call("patron", "GET", "/me/data").get_json())
    net.session.expire_all()
    assert net.session.scalars(select(Notice).where(Notice.body.contains("Pasien telepon"))).all() == []
    _login(net, lender)
    assert "Pasien telepon" not in net.client.get(f"/requests/{rid}").get_data(as_text=True)
    _login(net, "home")
    page = net.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Pasien telepon" in page and 'id="action-staff_note"' in page
    # closed, it takes no more (its history is kept as it is)
    assert net.act("home", rid, "cancel").status_code == 200
    assert net.act("home", rid, "staff_note", note="Dibatalkan atas permintaan pemustaka").status_code == 409
