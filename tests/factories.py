"""Builders for the rows tests need, with sensible defaults."""
from __future__ import annotations

import itertools

from agreements import partners as partner_service
from ill import accounts, clock

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


def switch_to(client, email: str, password: str = PASSWORD):
    """Sign out whoever is signed in on this client, and sign in as email."""
    client.post("/logout")
    return login(client, email, password)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- loans (builders for the loan workflow's tests) ---------------------------

def _loan_agreement(self, *partners, start=None, end=None, services=("loan", "copy"), signed=True,
                    **terms):
    """A signed agreement between ``partners`` covering ``services`` with the
    same ``terms`` (loan_period_days, renewals_allowed, response_days) each."""
    from datetime import timedelta

    from agreements.models import Agreement, AgreementParty, AgreementService

    start = start or clock.today() - timedelta(days=365)
    end = end or clock.today() + timedelta(days=2 * 365)
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
            record.items.append(Item(barcode=f"{partner.code}-{key}-{i}",
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
# --- union catalogue search (issue 5) -------------------------------------

def search_marc(title: str, author: str = "", year: int | None = None, isbns=(), issns=(),
                subjects=(), control_number: str | None = None) -> dict:
    """A small MARC-in-JSON record with the fields search reads."""
    fields = []
    if control_number:
        fields.append({"001": control_number})
    for i in isbns:
        fields.append({"020": {"ind1": " ", "ind2": " ", "subfields": [{"a": i}]}})
    for i in issns:
        fields.append({"022": {"ind1": " ", "ind2": " ", "subfields": [{"a": i}]}})
    if author:
        fields.append({"100": {"ind1": "1", "ind2": " ", "subfields": [{"a": author}]}})
    fields.append({"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": title}]}})
    if year:
        fields.append({"264": {"ind1": " ", "ind2": "1", "subfields": [{"c": str(year)}]}})
    for s in subjects:
        fields.append({"650": {"ind1": " ", "ind2": "4", "subfields": [{"a": s}]}})
    return {"leader": "00000nam a2200000 i 4500", "fields": fields}


def _search_cluster(self, title: str = "Pengantar ilmu perpustakaan", author: str = "", year=None,
                    publisher: str = "", isbns=(), issns=(), subjects=(), language: str = "ind",
                    format: str = "book", holdings: dict | None = None, edition: str = "",
                    call_number: str = "020 ABC p", index: bool = True):
    """A union record held by the named libraries, one member record each:
    ``holdings={"UGM": ["available", "on_loan"], "UINSU": []}`` (item statuses).
    Indexed for search unless ``index=False``."""
    import hashlib

    from union_catalog.models import Cluster, Item, SourceRecord
    from union_catalog.search import reindex_clusters

    holdings = {"UGM": ["available"]} if holdings is None else holdings
    cluster = Cluster(title=title, author=author, year=year, publisher=publisher, edition=edition,
                      language=language, format=format, isbns=list(isbns), issns=list(issns),
                      member_count=len(holdings))
    self.session.add(cluster)
    self.session.flush()
    for n, (code, statuses) in enumerate(holdings.items(), start=1):
        partner = partner_service.by_code(self.session, code) or self.partner(code)
        control = f"{code.lower()}-{cluster.id}"
        record = SourceRecord(
            partner_id=partner.id, record_key=control, control_number=control, ordinal=n,
            content_hash=hashlib.sha256(f"{code}{cluster.id}".encode()).hexdigest(),
            marc=search_marc(title, author, year, isbns, issns, subjects, control),
            title=title, author=author, year=year, isbns=list(isbns), issns=list(issns),
            match_data={"subjects": list(subjects)}, cluster=cluster,
            match_evidence=f"same ISBN as {code}" if isbns else "title, author and year agree")
        self.session.add(record)
        self.session.flush()
        for k, status in enumerate(statuses, start=1):
            self.session.add(Item(source_record_id=record.id,
                                  barcode=f"{code}{cluster.id:05d}{k}", call_number=call_number,
                                  location="Sirkulasi", status=status, source="952"))
    self.session.flush()
    if index:
        reindex_clusters(self.session, [cluster.id])
    return cluster


Factory.search_cluster = _search_cluster
