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
            self.session.add(Item(source_record_id=record.id, partner_id=partner.id,
                                  barcode=f"{code}{cluster.id:05d}{k}", call_number=call_number,
                                  location="Sirkulasi", status=status, source="952"))
    self.session.flush()
    if index:
        reindex_clusters(self.session, [cluster.id])
    return cluster


Factory.search_cluster = _search_cluster
