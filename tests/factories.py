"""Builders for the rows tests need, with sensible defaults."""
from __future__ import annotations

import itertools

from agreements import partners as partner_service
from ill import accounts

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session

    def partner(self, code: str | None = None, name: str | None = None, **fields):
        code = code or f"LIB{next(_seq)}"
        partner, _ = partner_service.upsert(self.session, code, name or f"Library {code}", **fields)
        self.session.flush()
        return partner

    def user(self, role: str = "patron", library=None, email: str | None = None,
             password: str = PASSWORD, **fields):
        if role in ("patron", "librarian") and library is None:
            library = self.partner()
        if isinstance(library, str):
            library = partner_service.by_code(self.session, library) or self.partner(library)
        email = email or f"{role}{next(_seq)}@example.org"
        user = accounts.create_user(self.session, email, password, role, library, **fields)
        self.session.flush()
        return user

    def token(self, user) -> str:
        token = accounts.issue_token(self.session, user)
        self.session.flush()
        return token

    def commit(self):
        self.session.commit()


def login(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def agreement(factory: Factory, *partners, services=("loan", "copy"), **data):
    """An agreement between the partners (objects or codes); ``data`` as the
    agreements service takes it (start_date, end_date, duration_months...)."""
    from agreements import service as agreement_service

    codes = [p if isinstance(p, str) else p.code for p in partners]
    row = agreement_service.create(
        factory.session, {"parties": codes, "services": list(services) if not isinstance(
            services, dict) else services, **data}, agreement_service.Actor(label="test"))
    factory.session.flush()
    return row


Factory.agreement = agreement
