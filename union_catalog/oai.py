"""The union catalogue as an OAI-PMH 2.0 data provider (``/catalog/oai``).

Aggregators harvest it: Indonesia OneSearch (the national library's portal,
which harvests Indonesian libraries over OAI-PMH), a university's discovery
service, another network's union catalogue, or a partner that wants the
network's records in its own system. Each union record is one item,
``oai:<host>:<number>``, in Dublin Core (``oai_dc``), MARCXML (``marc21``,
the record a library would copy, as SRU gives it) or MODS (``mods``).

- Datestamps are the union record's last change (``Cluster.updated_at``,
  which clustering keeps): a harvest ``from`` a day gets what changed since.
- A union record merged into another, or left without a live record, is
  answered as deleted (``deletedRecord``: transient, since such rows may go).
- Sets: ``library:<CODE>``, the union records a library holds now.
- Lists come 100 at a time; the resumption token carries the request and
  where the list stopped (datestamp and number), so a page follows from the
  last one even while imports change the catalogue.
- Every error is the protocol's, with its code (badArgument, badVerb,
  cannotDisseminateFormat, idDoesNotExist, noRecordsMatch,
  badResumptionToken), answered with 200 as the protocol asks.
"""
from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pymarc
from sqlalchemy import and_, exists, func, or_, select

from ill.clock import as_utc

from . import dublin_core, export, mods
from .models import Cluster, SearchHolding
from .xmltree import child, document

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_OWN = "oaipmh"  # the protocol's prefix while the answer is written, taken off after
ET.register_namespace(_OWN, OAI)
ET.register_namespace("oai_dc", OAI_DC)
ET.register_namespace("dc", dublin_core.DC)
ET.register_namespace("xsi", XSI)
FORMATS = {  # prefix -> (schema, namespace)
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "marc21": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", pymarc.marcxml.MARC_XML_NS),
    "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd", mods.NS),
}
PAGE = 100
VERBS = {  # verb -> (required, optional) arguments; a resumptionToken stands alone
    "Identify": ((), ()),
    "ListMetadataFormats": ((), ("identifier",)),
    "ListSets": ((), ("resumptionToken",)),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set", "resumptionToken")),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set", "resumptionToken")),
    "GetRecord": (("identifier", "metadataPrefix"), ()),
}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"


class OaiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _stamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: str, name: str, end: bool) -> tuple[datetime, str]:
    """A from/until argument as a moment, and its granularity ("day" or "second")."""
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return (day.replace(hour=23, minute=59, second=59, microsecond=999999) if end else day), "day"
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC, microsecond=999999 if end
                                                                        else 0), "second"
    except ValueError:
        raise OaiError("badArgument", f"{name} is not a date: '{value[:40]}' (YYYY-MM-DD or "
                                      "YYYY-MM-DDThh:mm:ssZ)") from None


class Provider:
    def __init__(self, session, base_url: str, host: str):
        self.session, self.base_url, self.host = session, base_url, host
        self.prefix = f"oai:{host}:"
        # each record's XML, put where its token stands once the answer is
        # written: OAI-PMH's elements unprefixed, as harvesters expect, and
        # each record in its own namespace
        self.payloads: dict[str, str] = {}

    # --- the answer ---------------------------------------------------------

    def answer(self, args) -> bytes:
        root = ET.Element(f"{{{OAI}}}OAI-PMH")
        root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
        child(root, f"{{{OAI}}}responseDate", _stamp(datetime.now(UTC)))
        request = child(root, f"{{{OAI}}}request", self.base_url)
        verb = args.get("verb", "")
        try:
            params = self._arguments(args, verb)
            for name, value in params.items():
                request.set(name, value)
            request.set("verb", verb)
            getattr(self, f"_{verb}")(root, params)
        except OaiError as exc:
            if exc.code in ("badVerb", "badArgument"):  # the protocol: the base URL alone then
                request.attrib.clear()
            child(root, f"{{{OAI}}}error", exc.message, code=exc.code)
        # the protocol's elements unprefixed, as harvesters expect (ElementTree
        # writes a default namespace only where no attribute is unqualified)
        text = (ET.tostring(root, encoding="unicode").replace(f' xmlns:{_OWN}="', ' xmlns="', 1)
                .replace(f"<{_OWN}:", "<").replace(f"</{_OWN}:", "</"))
        return document(text, self.payloads)

    def _arguments(self, args, verb: str) -> dict[str, str]:
        if verb not in VERBS:
            raise OaiError("badVerb", f"'{verb[:40]}' is not an OAI-PMH verb: one of {', '.join(VERBS)}"
                           if verb else "No verb: ask verb=Identify, ListRecords ...")
        required, optional = VERBS[verb]
        params = {}
        for name in args:
            if name == "verb":
                continue
            values = args.getlist(name)
            if name not in required and name not in optional:
                raise OaiError("badArgument", f"{verb} takes no argument '{name[:40]}'")
            if len(values) > 1:
                raise OaiError("badArgument", f"'{name}' is given more than once")
            params[name] = values[0]
        if "resumptionToken" in params:
            if len(params) > 1:
                raise OaiError("badArgument", "a resumptionToken stands alone")
            return params
        missing = [name for name in required if not params.get(name)]
        if missing:
            raise OaiError("badArgument", f"{verb} needs {', '.join(missing)}")
        return params

    # --- the verbs ----------------------------------------------------------

    def _Identify(self, root, _params) -> None:  # noqa: N802 - the protocol's verb
        box = child(root, f"{{{OAI}}}Identify")
        child(box, f"{{{OAI}}}repositoryName", "Union catalogue of the interlibrary loan network")
        child(box, f"{{{OAI}}}baseURL", self.base_url)
        child(box, f"{{{OAI}}}protocolVersion", "2.0")
        from flask import current_app

        sender = current_app.config.get("MAIL_SENDER", "")
        child(box, f"{{{OAI}}}adminEmail", sender.rsplit("<", 1)[-1].rstrip(">").strip() or f"admin@{self.host}")
        earliest = self.session.scalar(select(func.min(Cluster.updated_at)))
        child(box, f"{{{OAI}}}earliestDatestamp", _stamp(earliest) if earliest else "1970-01-01T00:00:00Z")
        child(box, f"{{{OAI}}}deletedRecord", "transient")
        child(box, f"{{{OAI}}}granularity", GRANULARITY)

    def _ListMetadataFormats(self, root, params) -> None:  # noqa: N802
        if params.get("identifier"):
            self._cluster(params["identifier"])
        box = child(root, f"{{{OAI}}}ListMetadataFormats")
        for prefix, (schema, namespace) in FORMATS.items():
            fmt = child(box, f"{{{OAI}}}metadataFormat")
            child(fmt, f"{{{OAI}}}metadataPrefix", prefix)
            child(fmt, f"{{{OAI}}}schema", schema)
            child(fmt, f"{{{OAI}}}metadataNamespace", namespace)

    def _ListSets(self, root, params) -> None:  # noqa: N802
        if params.get("resumptionToken"):
            raise OaiError("badResumptionToken", "the list of sets comes whole: it has no resumptionToken")
        from agreements.models import Partner

        box = child(root, f"{{{OAI}}}ListSets")
        holding = select(SearchHolding.partner_id).distinct()
        for code, name in self.session.execute(select(Partner.code, Partner.name)
                                               .where(Partner.id.in_(holding)).order_by(Partner.code)):
            entry = child(box, f"{{{OAI}}}set")
            child(entry, f"{{{OAI}}}setSpec", f"library:{code}")
            child(entry, f"{{{OAI}}}setName", name)

    def _GetRecord(self, root, params) -> None:  # noqa: N802
        prefix = self._format(params["metadataPrefix"])
        cluster = self._cluster(params["identifier"])
        box = child(root, f"{{{OAI}}}GetRecord")
        self._records(box, [cluster], prefix, with_metadata=True)

    def _ListIdentifiers(self, root, params) -> None:  # noqa: N802
        self._list(root, params, "ListIdentifiers", with_metadata=False)

    def _ListRecords(self, root, params) -> None:  # noqa: N802
        self._list(root, params, "ListRecords", with_metadata=True)

    # --- lists --------------------------------------------------------------

    def _list(self, root, params, verb: str, with_metadata: bool) -> None:
        if params.get("resumptionToken"):
            params = self._read_token(params["resumptionToken"])
        prefix = self._format(params["metadataPrefix"])
        query = select(Cluster)
        grain = None
        if params.get("from"):
            start, grain = _when(params["from"], "from", end=False)
            query = query.where(Cluster.updated_at >= start)
        if params.get("until"):
            end, until_grain = _when(params["until"], "until", end=True)
            if grain and grain != until_grain:
                raise OaiError("badArgument", "from and until are given in different granularities")
            if params.get("from") and end < start:
                raise OaiError("badArgument", "from is after until")
            query = query.where(Cluster.updated_at <= end)
        if params.get("set"):
            code = params["set"].removeprefix("library:")
            if not params["set"].startswith("library:"):
                raise OaiError("noRecordsMatch", f"no set '{params['set'][:60]}': the sets are library:CODE")
            from agreements.models import Partner

            query = query.where(exists().where(
                SearchHolding.cluster_id == Cluster.id,
                SearchHolding.partner_id == select(Partner.id).where(Partner.code == code).scalar_subquery()))
        # counted once, on the first page; the token carries it (the
        # protocol's completeListSize is an estimate)
        total = params.get("total")
        if total is None:
            total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        if params.get("after"):
            stamp, number = params["after"]
            after = datetime.fromisoformat(stamp)
            query = query.where(or_(Cluster.updated_at > after,
                                    and_(Cluster.updated_at == after, Cluster.id > number)))
        page = self.session.scalars(query.order_by(Cluster.updated_at, Cluster.id).limit(PAGE + 1)).all()
        if not page:
            raise OaiError("noRecordsMatch", "no union record matches the request")
        box = child(root, f"{{{OAI}}}{verb}")
        shown = page[:PAGE]
        self._records(box, shown, prefix, with_metadata)
        done = params.get("cursor", 0)
        if len(page) > PAGE:
            last = shown[-1]
            token = self._token({**{k: v for k, v in params.items() if k in ("metadataPrefix", "from", "until",
                                                                              "set")},
                                 "after": [last.updated_at.isoformat(), last.id], "cursor": done + len(shown),
                                 "total": total})
            child(box, f"{{{OAI}}}resumptionToken", token, completeListSize=total, cursor=done)
        elif done:
            child(box, f"{{{OAI}}}resumptionToken", None, completeListSize=total, cursor=done)

    @staticmethod
    def _token(state: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def _read_token(token: str) -> dict:
        try:
            state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if not isinstance(state, dict) or "metadataPrefix" not in state:
                raise ValueError
            stamp, number = state["after"]
            datetime.fromisoformat(stamp)
            if not all(isinstance(v, int) for v in (number, state.get("cursor", 0), state.get("total", 0))):
                raise ValueError
            return state
        except (ValueError, KeyError, TypeError):
            raise OaiError("badResumptionToken", "the resumptionToken is not one this repository gave") from None

    # --- records ------------------------------------------------------------

    def _format(self, prefix: str) -> str:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat",
                           f"no format '{prefix[:40]}': the formats are {', '.join(FORMATS)}")
        return prefix

    def _cluster(self, identifier: str) -> Cluster:
        number = identifier.removeprefix(self.prefix)
        cluster = self.session.get(Cluster, int(number)) if identifier.startswith(self.prefix) and \
            number.isdigit() else None
        if cluster is None:
            raise OaiError("idDoesNotExist", f"no item '{identifier[:100]}' in this repository")
        return cluster

    def _records(self, box, clusters: list[Cluster], prefix: str, with_metadata: bool) -> None:
        holders: dict[int, list[str]] = {}
        from agreements.models import Partner

        for cid, code in self.session.execute(
                select(SearchHolding.cluster_id, Partner.code).join(Partner, Partner.id == SearchHolding.partner_id)
                .where(SearchHolding.cluster_id.in_([c.id for c in clusters])).order_by(Partner.code)):
            holders.setdefault(cid, []).append(code)
        live = [c for c in clusters if c.merged_into_id is None and c.member_count]
        copies = export.copy_records(self.session, [c.id for c in live]) if with_metadata and live else {}
        for cluster in clusters:
            deleted = cluster.merged_into_id is not None or not cluster.member_count or (
                with_metadata and cluster.id not in copies)
            record = child(box, f"{{{OAI}}}record") if with_metadata else None
            header = child(record if record is not None else box, f"{{{OAI}}}header",
                           **({"status": "deleted"} if deleted else {}))
            child(header, f"{{{OAI}}}identifier", f"{self.prefix}{cluster.id}")
            child(header, f"{{{OAI}}}datestamp", _stamp(cluster.updated_at))
            for code in holders.get(cluster.id, []):
                child(header, f"{{{OAI}}}setSpec", f"library:{code}")
            if record is None or deleted:
                continue
            token = f"@@oai-record-{cluster.id}@@"
            child(record, f"{{{OAI}}}metadata", token)
            self.payloads[token] = _serialised(self._metadata(cluster, copies[cluster.id], prefix))

    @staticmethod
    def _metadata(cluster: Cluster, copy: pymarc.Record, prefix: str):
        if prefix == "marc21":
            return pymarc.record_to_xml_node(copy, namespace=True)
        if prefix == "mods":
            return mods.from_marc(copy)
        dc = ET.Element(f"{{{OAI_DC}}}dc")
        dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {FORMATS['oai_dc'][0]}")
        dublin_core.describe(dc, {"title": cluster.title, "author": cluster.author, "publisher": cluster.publisher,
                                  "year": cluster.year, "format": cluster.format, "isbn": cluster.isbns,
                                  "issn": cluster.issns, "language": cluster.language}, copy)
        return dc


def _serialised(element) -> str:
    """A record's XML in its own namespace: MARCXML and MODS come with plain
    names under an xmlns attribute, Dublin Core with its prefixes."""
    return ET.tostring(element, encoding="unicode")


def answer(session, args, base_url: str, host: str) -> bytes:
    return Provider(session, base_url, host).answer(args)


__all__ = ["answer", "Provider", "FORMATS", "PAGE"]
