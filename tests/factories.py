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


# --- loans (builders for the loan workflow's tests) ---------------------------

def _loan_agreement(self, *partners, start=None, end=None, services=("loan", "copy"), signed=True,
                    **terms):
    """A signed agreement between ``partners`` covering ``services`` with the
    same ``terms`` (loan_period_days, renewals_allowed, response_days) each."""
    from datetime import date, timedelta

    from agreements.models import Agreement, AgreementParty, AgreementService

    start = start or date.today() - timedelta(days=365)
    end = end or date.today() + timedelta(days=2 * 365)
    agreement = Agreement(title="MoU " + " ".join(p.code for p in partners), scope_forms=[],
                          state="signed" if signed else "draft", start_date=start, end_date=end)
    agreement.parties = [AgreementParty(partner_id=p.id) for p in partners]
    agreement.services = [AgreementService(service=s, **terms) for s in services]
    self.session.add(agreement)
    self.session.flush()
    return agreement


def _cluster_with_holdings(self, holdings: dict, title: str = "Sejarah Islam di Nusantara",
                           fmt: str = "book", **fields):
    """A union record held by libraries: ``holdings`` maps a partner (or its code)
    to a list of copy statuses, or of (status, coverage) pairs for a serial."""
    from union_catalog.models import Cluster, Item, SourceRecord

    cluster = Cluster(title=title, author=fields.pop("author", "Azra, Azyumardi"), year=fields.pop("year", 2004),
                      format=fmt, **fields)
    self.session.add(cluster)
    self.session.flush()
    for n, (partner, copies) in enumerate(holdings.items()):
        if isinstance(partner, str):
            partner = partner_service.by_code(self.session, partner) or self.partner(partner)
        key = f"{cluster.id}-{n}-{next(_seq)}"
        record = SourceRecord(partner_id=partner.id, record_key=key, control_number=key, ordinal=n + 1,
                              content_hash=key, marc={}, title=title, cluster_id=cluster.id)
        for i, copy in enumerate(copies):
            status, coverage = copy if isinstance(copy, tuple) else (copy, "")
            record.items.append(Item(partner_id=partner.id, barcode=f"{partner.code}-{key}-{i}",
                                     call_number=f"297.9 AZR s{i}", status=status, coverage=coverage))
        self.session.add(record)
    self.session.flush()
    return cluster


Factory.loan_agreement = _loan_agreement
Factory.cluster_with_holdings = _cluster_with_holdings


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
