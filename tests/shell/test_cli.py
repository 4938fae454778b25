"""The user and partner commands of API.md."""
from sqlalchemy import select

from agreements.models import Partner
from ill.accounts import User
from tests.factories import bearer


def test_users_create_and_token(runner, client, session):
    assert runner.invoke(args=["partners", "add", "UGM", "Universitas Gadjah Mada"]).exit_code == 0
    r = runner.invoke(args=["users", "create", "pus@ugm.example", "--password", "long enough",
                            "--role", "librarian", "--library", "ugm", "--name", "Pustakawan"])
    assert r.exit_code == 0, r.output
    user = session.scalar(select(User).where(User.email == "pus@ugm.example"))
    assert user.library.code == "UGM" and user.role == "librarian"
    r = runner.invoke(args=["users", "token", "pus@ugm.example"])
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["library"] == "UGM"
    r = runner.invoke(args=["users", "revoke-tokens", "pus@ugm.example"])
    assert "Revoked 1" in r.output
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_users_create_without_a_password_mails_an_invitation(runner, app, session):
    r = runner.invoke(args=["users", "create", "koordinator@jaringan.example", "--role", "coordinator",
                            "--locale", "en"])
    assert r.exit_code == 0, r.output
    assert "invited by mail to choose a password" in r.output
    user = session.scalar(select(User).where(User.email == "koordinator@jaringan.example"))
    assert user.password_hash == "" and user.password_link_sent_at is not None
    (mail,) = [m for m in app.extensions.get("mail_outbox", []) if m["To"] == user.email]
    assert "/password/set/" in mail.get_content()


def test_users_create_explains_bad_input(runner):
    r = runner.invoke(args=["users", "create", "p@x.example", "--password", "long enough",
                            "--role", "patron"])
    assert r.exit_code == 1 and "belongs to one library" in r.output
    r = runner.invoke(args=["users", "create", "p@x.example", "--password", "long enough",
                            "--role", "patron", "--library", "NOPE"])
    assert r.exit_code == 1 and "no partner library with the code 'NOPE'" in r.output
    r = runner.invoke(args=["users", "create", "p@x.example", "--password", "short",
                            "--role", "coordinator"])
    assert r.exit_code == 1 and "8 characters" in r.output


def test_partners_load_adds_and_updates_row_by_row(runner, session, tmp_path, client, make):
    runner.invoke(args=["partners", "add", "PNRI", "Perpusnas"])
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("code,name,region\nPNRI,Perpustakaan Nasional RI,DKI Jakarta\n"
                        "UINSU,UIN Sumatera Utara,Sumatera Utara\nbad code!,Somewhere,\n,No code,\n",
                        encoding="utf-8")
    r = runner.invoke(args=["partners", "load", str(csv_file)])
    assert r.exit_code == 0, r.output
    assert "line 2: updated PNRI" in r.output
    assert "line 3: added UINSU" in r.output
    assert "line 4: skipped" in r.output and "line 5: skipped" in r.output
    names = {p.code: p.name for p in session.scalars(select(Partner))}
    assert names == {"PNRI": "Perpustakaan Nasional RI", "UINSU": "UIN Sumatera Utara"}
    user = make.user("coordinator")
    token = make.token(user)
    make.commit()
    body = client.get("/api/v1/partners", headers=bearer(token)).get_json()
    assert [p["code"] for p in body["partners"]] == ["PNRI", "UINSU"]
    assert body["partners"][0]["lending_status"] == "lending"


def test_partners_load_checks_each_cell_as_the_partner_page_does(runner, session, tmp_path):
    csv_file = tmp_path / "p.csv"
    csv_file.write_text(
        "code,name,system,holdings_tag,review_requests,agency_id,iso18626_url\n"
        "PNRI,Perpustakaan Nasional RI,other,auto,yes,ISIL:ID-JKPN,https://ill.perpusnas.go.id/iso18626\n"
        "UGM,Perpustakaan UGM,koha,952,no,,ftp://ugm.ac.id/iso\n"
        "UINSU,UIN Sumatera Utara,slims,9999,,,\n"
        "UQ,Universitas Quality,,,,ISIL:ID-JKPN,\n"
        "UMSU,UM Sumatera Utara,,,maybe,,\n", encoding="utf-8")
    r = runner.invoke(args=["partners", "load", str(csv_file)])
    assert r.exit_code == 0, r.output
    assert "line 2: added PNRI" in r.output
    assert "line 3: skipped" in r.output and "iso18626_url" in r.output
    assert "line 4: skipped" in r.output and "holdings_tag" in r.output
    assert "line 5: skipped" in r.output and "already PNRI's" in r.output
    assert "line 6: skipped" in r.output and "review_requests" in r.output
    (pnri,) = session.scalars(select(Partner)).all()  # a refused row adds nothing
    assert (pnri.review_requests, pnri.agency_id, pnri.iso18626_url) == (
        True, "ISIL:ID-JKPN", "https://ill.perpusnas.go.id/iso18626")


def test_partners_load_refuses_a_file_without_the_columns(runner, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("kode,nama\nA,B\n")
    r = runner.invoke(args=["partners", "load", str(f)])
    assert r.exit_code == 1 and "code and name" in r.output


def test_demo_load_is_idempotent(runner, session):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "mahasiswa@uinsu.demo.ill" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert session.scalar(select(User).where(User.email == "admin@demo.ill")).role == "admin"
    assert len(session.scalars(select(Partner)).all()) >= 17
