"""The union catalogue as an OAI-PMH data provider (both engines): what an
aggregator harvests (Indonesia OneSearch, a discovery service, another
network), the protocol's errors, and a round trip through this service's
own harvester and importer."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from tests.live import served
from union_catalog import harvest, importer, oai
from union_catalog.models import Cluster, SearchHolding

from .test_sru import _world

NS = {"o": oai.OAI, "dc": "http://purl.org/dc/elements/1.1/", "oai_dc": oai.OAI_DC,
      "marc": "http://www.loc.gov/MARC21/slim", "mods": "http://www.loc.gov/mods/v3"}


def ask(client, method="get", **params):
    resp = getattr(client, method)("/catalog/oai", **({"query_string": params} if method == "get" else
                                                      {"data": params}))
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives')
    return ET.fromstring(resp.data)


def error(root) -> str | None:
    found = root.find("o:error", NS)
    return found.get("code") if found is not None else None


def identifiers(root, verb="ListIdentifiers") -> list[str]:
    path = "o:header" if verb == "ListIdentifiers" else "o:record/o:header"
    return [h.findtext("o:identifier", namespaces=NS) for h in root.findall(f"o:{verb}/{path}", NS)]


def test_an_aggregator_learns_what_the_repository_gives(world, client):
    _world(world)
    root = ask(client, verb="Identify")
    box = root.find("o:Identify", NS)
    assert box.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert box.findtext("o:baseURL", namespaces=NS) == "http://localhost/catalog/oai"
    assert box.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert box.findtext("o:deletedRecord", namespaces=NS) == "transient"
    formats = [f.findtext("o:metadataPrefix", namespaces=NS)
               for f in ask(client, verb="ListMetadataFormats").findall("o:ListMetadataFormats/o:metadataFormat", NS)]
    assert formats == ["oai_dc", "marc21", "mods"]
    sets = [s.findtext("o:setSpec", namespaces=NS)
            for s in ask(client, verb="ListSets").findall("o:ListSets/o:set", NS)]
    assert sets == ["library:PNRI", "library:UGM"]


def test_records_in_each_format(world, client):
    cid = _world(world)
    ident = f"oai:localhost:{cid}"
    dc = ask(client, verb="GetRecord", identifier=ident, metadataPrefix="oai_dc")
    record = dc.find("o:GetRecord/o:record", NS)
    assert record.findtext("o:header/o:identifier", namespaces=NS) == ident
    assert [s.text for s in record.findall("o:header/o:setSpec", NS)] == ["library:PNRI", "library:UGM"]
    assert record.findtext("o:metadata/oai_dc:dc/dc:title", namespaces=NS) == "Tafsīr al-Miṣbāḥ"
    assert "urn:isbn:" in record.findtext("o:metadata/oai_dc:dc/dc:identifier", namespaces=NS)
    marc = ask(client, verb="GetRecord", identifier=ident, metadataPrefix="marc21")
    fields = marc.find("o:GetRecord/o:record/o:metadata/marc:record", NS)
    assert fields.find("marc:controlfield[@tag='001']", NS).text == str(cid)
    assert fields.find("marc:datafield[@tag='952']", NS) is None  # the libraries' copies stay home
    mods = ask(client, verb="GetRecord", identifier=ident, metadataPrefix="mods")
    assert mods.find("o:GetRecord/o:record/o:metadata/mods:mods", NS) is not None


def test_lists_come_in_pages_that_follow_each_other(world, client, monkeypatch):
    _world(world)
    monkeypatch.setattr(oai, "PAGE", 2)
    total = world.session.scalar(select(func.count(Cluster.id)))
    root = ask(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    seen = identifiers(root)
    token = root.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert len(seen) == 2 and token.get("completeListSize") == str(total) and token.get("cursor") == "0"
    while token is not None and token.text:
        root = ask(client, verb="ListIdentifiers", resumptionToken=token.text)
        seen += identifiers(root)
        token = root.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert len(seen) == len(set(seen)) == total  # each once, none lost
    assert token is not None and not token.text  # the last page says the list is complete
    assert error(ask(client, verb="ListIdentifiers", resumptionToken="not-ours")) == "badResumptionToken"


def test_a_harvest_from_a_day_gets_what_changed_since(world, client, session):
    cid = _world(world)
    later = "2999-01-01"
    assert error(ask(client, verb="ListRecords", metadataPrefix="oai_dc", **{"from": later})) == "noRecordsMatch"
    changed = ask(client, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2000-01-01",
                                                                         "until": "2999-12-31"})
    assert f"oai:localhost:{cid}" in identifiers(changed, "ListRecords")
    mixed = ask(client, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2000-01-01",
                                                                       "until": "2999-12-31T00:00:00Z"})
    assert error(mixed) == "badArgument"
    backwards = ask(client, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2999-01-01",
                                                                           "until": "2000-01-01"})
    assert error(backwards) == "badArgument"
    only_ugm = identifiers(ask(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="library:UGM"))
    assert sorted(only_ugm) == sorted(f"oai:localhost:{c}" for c in session.scalars(
        select(SearchHolding.cluster_id).join_from(SearchHolding, Cluster, SearchHolding.cluster_id == Cluster.id)
        .where(SearchHolding.partner_id == world.partners["UGM"].id)))


@pytest.mark.parametrize("params, code", [
    ({}, "badVerb"), ({"verb": "ListEverything"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "pdf"}, "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "kemarin"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:1"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:localhost:999999"}, "idDoesNotExist"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
])
def test_the_protocols_errors(world, client, params, code):
    _world(world)
    root = ask(client, **params)
    assert error(root) == code
    if code in ("badVerb", "badArgument"):  # the request is echoed without its arguments then
        assert root.find("o:request", NS).attrib == {}


def test_a_merged_or_emptied_union_record_is_deleted(world, client, session):
    cid = _world(world)
    other = world.cluster_of("PNRI", "p2")
    session.get(Cluster, other).merged_into_id = cid
    session.commit()
    root = ask(client, verb="GetRecord", identifier=f"oai:localhost:{other}", metadataPrefix="oai_dc")
    record = root.find("o:GetRecord/o:record", NS)
    assert record.find("o:header", NS).get("status") == "deleted" and record.find("o:metadata", NS) is None
    # harvesters POST as well, without a session to forge
    assert error(ask(client, "post", verb="Identify")) is None


def test_another_network_harvests_it_and_its_records_join_the_same_union_records(app, world, session, tmp_path):
    """A round trip through this service's own OAI-PMH harvester and
    importer: the records it gives are ones a library can catalogue from, and
    the importer takes each for the edition it came from."""
    _world(world)
    before = session.scalar(select(func.count(Cluster.id)))
    with served(app) as url:
        got = harvest.harvest(f"{url}/catalog/oai", str(tmp_path / "union.xml"), prefix="marc21")
    assert got.records == before and got.not_marc == []
    mirror = world.make.partner("MIRROR")
    world.session.commit()
    report = importer.import_export(session, mirror, str(tmp_path / "union.xml"))
    session.commit()
    assert report["imported"] == before and report["errors"] == 0
    assert session.scalar(select(func.count(Cluster.id)).where(Cluster.merged_into_id.is_(None),
                                                                Cluster.member_count > 0)) == before
    held = set(session.scalars(select(SearchHolding.cluster_id).where(SearchHolding.partner_id == mirror.id)))
    assert len(held) == before


def test_a_forged_resumption_token_is_refused(world, client):
    import base64
    import json

    _world(world)
    for state in ({"metadataPrefix": "oai_dc", "after": ["2026-01-01T00:00:00", 1], "cursor": "many"},
                  {"metadataPrefix": "oai_dc", "after": ["yesterday", 1]},
                  {"metadataPrefix": "oai_dc", "after": ["2026-01-01T00:00:00", "1; DROP TABLE clusters"]},
                  ["not", "an", "object"]):
        token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        assert error(ask(client, verb="ListRecords", resumptionToken=token)) == "badResumptionToken", state
