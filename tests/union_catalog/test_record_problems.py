"""Problems with a union record: anyone signed in reports one from the
record page or the API, coordinators are told, close it with an answer, and
the reporter hears it; everyone sees their own reports (both engines)."""
from __future__ import annotations

from sqlalchemy import select

from ill import notify
from tests.factories import bearer, login
from union_catalog import record_problems
from union_catalog.models import RecordProblem

EN = {"Accept-Language": "en"}


def _notices(session, kind):
    session.expire_all()
    return session.scalars(select(notify.Notice).where(notify.Notice.kind == kind).order_by(notify.Notice.id)).all()


def test_a_reader_reports_from_the_record_page_and_hears_the_answer(client, make, session):
    record = make.search_cluster(title="Tafsir al-Misbah", holdings={"UGM": ["available"], "UINSU": []})
    patron = make.user("patron", library="UINSU", locale="en", name="Siti")
    coordinator = make.user("coordinator", locale="en", name="Rahmat")
    make.commit()
    page = client.get(f"/catalog/records/{record.id}", headers=EN).get_data(as_text=True)
    assert "to report a problem with this record" in page and 'name="kind"' not in page
    login(client, patron.email)
    page = client.get(f"/catalog/records/{record.id}", headers=EN).get_data(as_text=True)
    assert "Report a problem with this record" in page and 'value="different_editions"' in page
    resp = client.post(f"/catalog/records/{record.id}/problems", headers=EN, follow_redirects=True,
                       data={"kind": "different_editions", "note": "Jilid 1 dan jilid 2 tergabung."})
    assert "coordinators will look at it" in resp.get_data(as_text=True)
    [problem] = session.scalars(select(RecordProblem)).all()
    assert (problem.cluster_id, problem.user_id, problem.status) == (record.id, patron.id, "open")
    [told] = _notices(session, "record_problem")
    assert told.user_id == coordinator.id and told.subject == f"Problem reported with union record {record.id}"
    assert "Siti reports a problem" in told.body and "Jilid 1 dan jilid 2 tergabung." in told.body
    assert f"/catalog/problems/?record={record.id}" in told.link
    # the reader sees their own report, not a coordinator's worklist
    mine = client.get("/catalog/problems/", headers=EN).get_data(as_text=True)
    assert "The problems you reported" in mine and "Tafsir al-Misbah" in mine and "Answer to the reporter" not in mine
    assert client.post(f"/catalog/problems/{problem.id}/close", data={"answer": "x"}).status_code == 403

    client.post("/logout")
    login(client, coordinator.email)
    page = client.get(f"/catalog/records/{record.id}", headers=EN).get_data(as_text=True)
    assert "1 problem reported with this record awaits an answer" in page
    work = client.get(f"/catalog/problems/?record={record.id}", headers=EN).get_data(as_text=True)
    assert "It mixes different editions or works" in work and "Answer to the reporter" in work
    client.post(f"/catalog/problems/{problem.id}/close", data={"answer": "Dipisahkan: jilid 2 kini sendiri."})
    session.expire_all()
    assert session.get(RecordProblem, problem.id).status == "closed"
    [answered] = _notices(session, "record_problem_closed")
    assert answered.user_id == patron.id and "Dipisahkan: jilid 2 kini sendiri." in answered.body
    assert answered.subject == f"Your report on union record {record.id} is answered"
    assert "1 problem reported" not in client.get(f"/catalog/records/{record.id}", headers=EN).get_data(as_text=True)


def test_a_bad_report_is_refused_by_name_and_keeps_nothing(client, make, session):
    record = make.search_cluster(title="Tafsir al-Azhar")
    librarian = make.user("librarian", library="UGM")
    token = make.token(librarian)
    make.commit()
    h = {**bearer(token), **EN}

    def post(body, record_id=record.id):
        return client.post(f"/api/v1/records/{record_id}/problems", json=body, headers=h)

    for body, field in (({"kind": "spelling"}, "kind"), ({"kind": "other"}, "note"),
                        ({"kind": "same_edition"}, "other_record"),
                        ({"kind": "same_edition", "other_record": "abc"}, "other_record"),
                        ({"kind": "same_edition", "other_record": record.id}, "other_record"),
                        ({"kind": "description", "note": "x" * 2001}, "note")):
        resp = post(body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, (body, resp.get_json())
    assert post({"kind": "same_edition", "other_record": 999999}).status_code == 404
    assert post({"kind": "holdings"}, record_id=999999).status_code == 404
    assert session.scalars(select(RecordProblem)).all() == []
    assert _notices(session, "record_problem") == []
    # through the page, the same refusal is said on the record page
    login(client, librarian.email)
    resp = client.post(f"/catalog/records/{record.id}/problems", data={"kind": "other"}, headers=EN,
                       follow_redirects=True)
    assert "Say in the note what is wrong." in resp.get_data(as_text=True)
    assert session.scalars(select(RecordProblem)).all() == []


def test_over_the_api_each_sees_their_own_and_coordinators_all(client, make, session):
    a = make.search_cluster(title="Sejarah Aceh")
    b = make.search_cluster(title="Adat Aceh")
    patron, librarian = make.user("patron", library="UINSU"), make.user("librarian", library="UGM")
    coordinator = make.user("coordinator")
    tp, tl, tc = make.token(patron), make.token(librarian), make.token(coordinator)
    make.commit()
    made = client.post(f"/api/v1/records/{a.id}/problems", headers=bearer(tp),
                       json={"kind": "same_edition", "other_record": b.id, "note": "Sama."})
    assert made.status_code == 201
    body = made.get_json()
    assert (body["record_id"], body["other_record"], body["status"], body["answer"]) == (a.id, b.id, "open", None)
    client.post(f"/api/v1/records/{b.id}/problems", headers=bearer(tl), json={"kind": "holdings"})

    def listed(token, status="open"):
        resp = client.get(f"/api/v1/record-problems?status={status}", headers=bearer(token))
        return resp.get_json()["problems"]

    assert [p["record_id"] for p in listed(tp)] == [a.id]
    assert {p["record_id"] for p in listed(tc)} == {a.id, b.id}
    assert client.post(f"/api/v1/record-problems/{body['id']}/close", headers=bearer(tl), json={}).status_code == 403
    closed = client.post(f"/api/v1/record-problems/{body['id']}/close", headers=bearer(tc),
                         json={"answer": "Digabung."})
    assert closed.status_code == 200 and closed.get_json()["answer"] == "Digabung."
    again = client.post(f"/api/v1/record-problems/{body['id']}/close", headers=bearer(tc), json={})
    assert again.status_code == 409
    assert listed(tp, "closed")[0]["answer"] == "Digabung."
    assert client.get("/api/v1/record-problems?status=maybe", headers=bearer(tp)).status_code == 400


def test_a_merged_record_s_report_goes_to_where_it_went(make, session):
    from union_catalog.models import Cluster

    kept = make.search_cluster(title="Hikayat Aceh")
    gone = make.search_cluster(title="Hikayat Aceh (salinan)")
    gone.merged_into_id = kept.id
    patron = make.user("patron", library="UINSU")
    make.commit()
    problem = record_problems.report(session, patron, gone.id, "description", "Judulnya salah.")
    assert problem.cluster_id == kept.id and session.get(Cluster, kept.id) is not None


def test_a_reporter_makes_so_many_reports_a_day(client, make, session):
    record = make.search_cluster(title="Tafsir al-Jalalain")
    patron = make.user("patron", library="UINSU")
    token = make.token(patron)
    make.commit()
    for _n in range(record_problems.PER_DAY):
        record_problems.report(session, patron, record.id, "description")
    session.commit()
    resp = client.post(f"/api/v1/records/{record.id}/problems", json={"kind": "description"},
                       headers={**bearer(token), **EN})
    assert resp.status_code == 429 and "Please wait a day" in resp.get_json()["error"]["message"]
