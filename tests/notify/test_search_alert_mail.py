"""A search alert's mail through a real SMTP server, in the reader's language."""
from __future__ import annotations

import pytest

from union_catalog import alerts


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port,
            "MAIL_TIMEOUT": 5, "SITE_URL": "https://ill.example.org/"}


def test_the_tick_mails_what_a_followed_search_finds(app, make, session, runner, smtp_server):
    ida = make.user("patron", library="UINSU", locale="id", email="ida@example.org")
    make.commit()
    alerts.create(session, ida, {"q": "tafsir"})
    session.commit()
    record = make.search_cluster(title="Tafsir al-Azhar", author="Hamka", year=1982, holdings={"UINSU": []})
    make.commit()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    [mail] = smtp_server.handler.to("ida@example.org")
    assert mail["Subject"] == "Baru di katalog: tafsir"
    body = mail.get_content()
    assert "Tafsir al-Azhar / Hamka (1982)" in body
    assert f"https://ill.example.org/catalog/records/{record.id}" in body
    assert "https://ill.example.org/catalog/alerts/" in body
    runner.invoke(args=["tick"])
    assert len(smtp_server.handler.to("ida@example.org")) == 1
