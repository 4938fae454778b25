"""A real SMTP server on 127.0.0.1 for the mail tests, and the compiled
message catalogues the recipients' languages need."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compile_catalogues() -> None:
    """Compile every package's .po to .mo (the .mo files are not kept in git)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in ROOT.glob("*/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog)


@pytest.fixture(scope="session", autouse=True)
def _catalogues():
    compile_catalogues()


class Collector:
    """aiosmtpd handler keeping every message that arrived, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"

    def to(self, addr: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == addr]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.handler = Collector()
        self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
