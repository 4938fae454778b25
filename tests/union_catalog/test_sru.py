"""The union catalogue as an SRU server (both engines): what a library
system's copy cataloguing asks in CQL, and the records, counts and
diagnostics it gets back."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pymarc
import pytest
from pymarc import Field

from union_catalog import sru

from .test_export import held
from .test_matching import ISBN
from .world import book

NS = {"srw": "http://www.loc.gov/zing/srw/", "diag": "http://www.loc.gov/zing/srw/diagnostic/",
      "marc": "http://www.loc.gov/MARC21/slim", "dc": "http://purl.org/dc/elements/1.1/",
      "zr": "http://explain.z3950.org/dtd/2.0/", "ill": sru.NS["ill"]}
TITLE = "Tafsīr al-Miṣbāḥ"
FULL = "     nam a22      i 4500"  # encoding level blank: full


def _world(world):
    fuller = held(book("p1", isbns=[ISBN], title=TITLE, author="Shihab, M. Quraish", year=2002,
                       leader=FULL), "B1", "B2")
    fuller.add_field(Field(tag="003", data="PNRI-OPAC"))
    world.load("PNRI", fuller,
               book("p2", title="Sejarah kota Medan", author="Sinar", year=1991),
               book("p3", title="Hukum Islam di Indonesia", author="Rofiq", year=2015),
               book("p4", title="Hukum adat", author="Hadikusuma", year=2003))
    # more fields, but a core-level record: the full-level one is copied
    core = held(book("u1", isbns=[ISBN], title=TITLE, author="Shihab, M. Quraish", year=2002,
                     note="Bibliografi: hlm. 301"), "U1")
    world.load("UGM", core, book("u2", title="Hukum pidana", author="Moeljatno", year=2008))
    cid = world.cluster_of("PNRI", "p1")
    assert cid == world.cluster_of("UGM", "u1")
    return cid


def ask(client, **params):
    resp = client.get("/catalog/sru", query_string=params)
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    return ET.fromstring(resp.data)


def number(root) -> int:
    return int(root.findtext("srw:numberOfRecords", namespaces=NS))


def diagnostic(root) -> tuple[str, str]:
    d = root.find("srw:diagnostics/diag:diagnostic", NS)
    assert d is not None, ET.tostring(root)
    return d.findtext("diag:uri", namespaces=NS).rsplit("/", 1)[1], d.findtext("diag:details", namespaces=NS)


def marc_records(root) -> list[pymarc.Record]:
    out = []
    for data in root.findall("srw:records/srw:record/srw:recordData", NS):
        assert len(data) == 1
        out += pymarc.parse_xml_to_array(_stream(ET.tostring(data[0])))
    return out


def _stream(data: bytes):
    return io.BytesIO(data)


def test_copy_cataloguing_by_isbn_gets_the_fullest_record_numbered_as_the_union_record(world, client):
    cid = _world(world)
    root = ask(client, version="1.2", operation="searchRetrieve", query=f"bath.isbn={ISBN}",
               recordSchema="marcxml")
    assert number(root) == 1
    (record,) = marc_records(root)
    assert record["001"].data == str(cid)
    assert record.get("003") is None
    assert [f["a"] for f in record.get_fields("035")] == ["(PNRI-OPAC)p1"]  # where it was copied from
    assert record.leader[17] == " " and record.get_fields("500") == []  # PNRI's full-level record, not UGM's
    assert record.get_fields("952", "852") == []  # the libraries' copies stay home
    assert record["245"]["a"].startswith(TITLE) and record["020"]["a"] == ISBN
    position = root.find("srw:records/srw:record", NS)
    assert position.findtext("srw:recordSchema", namespaces=NS) == "info:srw/schema/1/marcxml-v1.1"
    assert position.findtext("srw:recordPosition", namespaces=NS) == "1"
    libraries = position.findall("srw:extraRecordData/ill:holdings/ill:library", NS)
    assert {(lib.get("code"), lib.get("items")) for lib in libraries} == {("PNRI", "2"), ("UGM", "1")}
    assert root.find("srw:nextRecordPosition", NS) is None
    echoed = root.find("srw:echoedSearchRetrieveRequest", NS)
    assert echoed.findtext("srw:query", namespaces=NS) == f"bath.isbn={ISBN}"


def test_cql_clauses_joined_by_and_narrow_the_search(world, client):
    _world(world)

    def titles(query, **more):
        root = ask(client, operation="searchRetrieve", version="1.1", query=query, **more)
        return number(root), [r["245"]["a"] for r in marc_records(root)]

    assert titles('dc.title = "tafsir al-misbah"')[0] == 1  # diacritics and case aside, as the search page
    assert titles("hukum")[0] == 3  # cql.serverChoice: any word
    assert titles("dc.title = hukum and dc.date >= 2005")[0] == 2
    assert titles("dc.title = hukum and dc.date within \"2000 2010\"")[0] == 2
    assert titles("dc.title all hukum and dc.date < 2004")[1] == ["Hukum adat"]
    assert titles("hukum and ill.library = UGM")[1] == ["Hukum pidana"]
    assert titles("ill.available = 1")[0] == 1  # only the Tafsir has items, on PNRI's and UGM's shelves
    assert titles("hukum and ill.available = 0")[0] == 3
    assert titles("dc.creator = shihab")[0] == 1
    assert titles('dc.title adj "hukum islam"')[0] == 1
    assert titles('dc.title adj "islam hukum"')[0] == 0  # adj: the words side by side, in order
    assert titles("dc.title = huk*")[0] == 3
    # any: one of the words is enough, the fuller matches first (SLiMS asks so)
    count, found = titles('dc.title any "hukum pidana"')
    assert count == 3 and found[0] == "Hukum pidana"
    assert titles('dc.title any "misbah medan"')[0] == 2
    assert titles('dc.creator any "shihab moeljatno" and dc.date > 2005')[1] == ["Hukum pidana"]
    assert titles("dc.language = ind and dc.language = eng")[0] == 0  # exclude each other: nothing
    assert titles("hukum sortBy dc.date/sort.descending")[1] == [
        "Hukum Islam di Indonesia", "Hukum pidana", "Hukum adat"]
    assert titles("hukum", sortKeys="dc.date,,1")[1] == ["Hukum adat", "Hukum pidana", "Hukum Islam di Indonesia"]
    assert titles("cql.allRecords = 1")[0] == 5


def test_records_come_in_pages(world, client):
    _world(world)
    root = ask(client, query="hukum", maximumRecords="2", sortKeys="dc.date,,1")
    assert number(root) == 3 and len(marc_records(root)) == 2
    assert root.findtext("srw:nextRecordPosition", namespaces=NS) == "3"
    root = ask(client, query="hukum", maximumRecords="2", startRecord="3", sortKeys="dc.date,,1")
    (last,) = marc_records(root)
    assert last["245"]["a"] == "Hukum Islam di Indonesia"
    assert root.find("srw:nextRecordPosition", NS) is None
    assert root.findtext("srw:records/srw:record/srw:recordPosition", namespaces=NS) == "3"
    root = ask(client, query="hukum", maximumRecords="0")  # the count alone
    assert number(root) == 3 and root.find("srw:records", NS) is None
    assert diagnostic(ask(client, query="hukum", startRecord="4")) == ("61", "4")


def test_dublin_core_and_records_packed_as_strings(world, client):
    _world(world)
    root = ask(client, query=f"isbn={ISBN}", recordSchema="dc")
    dc = root.find("srw:records/srw:record/srw:recordData", NS)[0]
    assert dc.findtext("dc:title", namespaces=NS).startswith(TITLE)
    assert dc.findtext("dc:creator", namespaces=NS).startswith("Shihab")
    assert dc.findtext("dc:identifier", namespaces=NS) == f"urn:isbn:{ISBN}"
    assert [s.text for s in dc.findall("dc:subject", NS)] == ["Tafsir"]

    root = ask(client, query=f"isbn={ISBN}", recordPacking="string")
    data = root.find("srw:records/srw:record/srw:recordData", NS)
    assert len(data) == 0 and data.text.startswith("<")  # the record as escaped text
    (record,) = pymarc.parse_xml_to_array(_stream(data.text.encode()))
    assert record["245"]["a"].startswith(TITLE)


@pytest.mark.parametrize("params, code, details", [
    ({"query": "dc.title = tafsir or dc.title = hukum"}, "37", "or"),
    ({"query": "tafsir not hukum"}, "37", "not"),
    ({"query": "dc.publisher = erlangga"}, "16", "dc.publisher"),
    ({"query": 'dc.title within "tafsir hukum"'}, "19", "within"),
    ({"query": "dc.date all 2000"}, "19", "all"),
    ({"query": "dc.title =/cql.string tafsir"}, "20", "/cql.string"),
    ({"query": "dc.title = taf*sir"}, "28", "taf*sir"),
    ({"query": "dc.title = ta?sir"}, "28", "ta?sir"),
    ({"query": "dc.title and"}, "10", "dc.title and"),
    ({"query": "(tafsir"}, "10", "(tafsir"),
    ({"query": 'dc.title = ""'}, "27", "dc.title"),
    ({"query": "bath.isbn = 12345"}, "36", "isbn"),
    ({"query": "dc.date = 20x0"}, "36", "20x0"),
    ({"query": "ill.available = maybe"}, "36", "maybe"),
    ({"query": "tafsir sortBy dc.publisher"}, "88", "dc.publisher"),
    ({"query": "tafsir sortBy dc.title/sort.descending"}, "90", "dc.title"),
    ({"query": "tafsir", "sortKeys": "dc.date,,1 dc.title"}, "84", "dc.date,,1 dc.title"),
    ({"query": "tafsir", "recordSchema": "pica"}, "66", "pica"),
    ({"query": "tafsir", "recordPacking": "json"}, "71", "json"),
    ({"query": "tafsir", "maximumRecords": "ten"}, "6", "maximumRecords"),
    ({"query": "tafsir", "startRecord": "0"}, "6", "startRecord"),
    ({"operation": "searchRetrieve"}, "7", "query"),
    ({"query": "tafsir and " * 300 + "hukum"}, "6", "query"),
    ({"operation": "scan", "scanClause": "dc.title=a"}, "4", "scan"),
    ({"operation": "searchRetrieve", "version": "2.0", "query": "a"}, "5", "1.2"),
])
def test_what_cannot_be_answered_gets_the_diagnostic_naming_it(world, client, params, code, details):
    _world(world)
    root = ask(client, **params)
    assert diagnostic(root) == (code, details)
    message = root.findtext("srw:diagnostics/diag:diagnostic/diag:message", namespaces=NS)
    assert message and len(message) > 10
    assert root.find("srw:records", NS) is None


def test_a_diagnostic_speaks_the_readers_language(world, client):
    _world(world)
    said = {}
    for lang in ("en", "id"):
        resp = client.get("/catalog/sru", query_string={"query": "dc.publisher = x"},
                          headers={"Accept-Language": lang})
        said[lang] = ET.fromstring(resp.data).findtext("srw:diagnostics/diag:diagnostic/diag:message",
                                                       namespaces=NS)
    assert said["en"].startswith("Unsupported index dc.publisher")
    assert said["id"].startswith("Indeks dc.publisher tidak didukung")


def test_explain_says_what_may_be_searched_and_how(client):
    root = ask(client)  # no operation, no query: explain
    assert root.tag == f"{{{NS['srw']}}}explainResponse"
    explain = root.find("srw:record/srw:recordData/zr:explain", NS)
    assert explain.findtext("zr:serverInfo/zr:database", namespaces=NS) == "catalog/sru"
    names = {(n.get("set"), n.text) for n in explain.findall("zr:indexInfo/zr:index/zr:map/zr:name", NS)}
    assert {("dc", "title"), ("bath", "isbn"), ("dc", "date"), ("cql", "serverChoice"), ("ill", "library")} <= names
    schemas = {s.get("name") for s in explain.findall("zr:schemaInfo/zr:schema", NS)}
    assert schemas == {"marcxml", "mods", "dc"}
    titles = {t.get("lang") for t in explain.findall("zr:databaseInfo/zr:title", NS)}
    assert titles == {"en", "id"}
    assert ask(client, operation="explain", version="1.1").tag == f"{{{NS['srw']}}}explainResponse"


def test_a_union_record_whose_records_were_all_withdrawn_is_not_found(world, client):
    _world(world)
    world.load("UGM", book("u2", title="Hukum pidana", author="Moeljatno", year=2008))  # u1 withdrawn
    root = ask(client, query=f"bath.isbn={ISBN}")
    assert len(marc_records(root)) == 1  # PNRI still holds it
    codes = {lib.get("code") for lib in root.findall(".//ill:library", NS)}
    assert codes == {"PNRI"}


@pytest.mark.parametrize("cql, expected", [
    ("tafsir", {"q": "tafsir"}),
    ('title adj "a b" and TITLE = c', {"title": '"a b" c'}),
    ("dc.date > 1999 and dc.date <= 2010", {"year_from": 2000, "year_to": 2010}),
    ("dc.language any \"ind eng\" and dc.language = eng", {"languages": ["eng"]}),
    ("ill.library = ugm", {"libraries": ["UGM"]}),
    ('dc.title any "hadis fikih"', {"alternatives": [("title", ("hadis", "fikih"))], "title": ""}),
    ("dc.identifier = 0378-5955", {"issn": "03785955"}),
])
def test_cql_as_the_search_reads_it(app, cql, expected):
    with app.test_request_context():
        query = sru.to_query(cql)
    for name, value in expected.items():
        assert getattr(query, name) == value, name


def test_slims_copy_cataloguing_asks_any_of_its_words_and_gets_mods(world, client):
    """As SLiMS's "Z39.50 SRU" asks (version 1.1, "<index> any" the words
    typed, MODS) and reads the answer (PHP's SimpleXML: the MODS record an
    unprefixed child of recordData)."""
    cid = _world(world)
    resp = client.get("/catalog/sru", query_string={
        "version": "1.1", "operation": "searchRetrieve", "query": 'dc.title any "tafsir al-misbah"',
        "startRecord": "1", "maximumRecords": "20", "recordSchema": "mods"})
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert '<mods xmlns="http://www.loc.gov/mods/v3"' in text  # no prefix: SimpleXML's children() finds it
    root = ET.fromstring(resp.data)
    assert number(root) == 1
    mods = root.find("srw:records/srw:record/srw:recordData/m:mods", {**NS, "m": "http://www.loc.gov/mods/v3"})
    m = {"m": "http://www.loc.gov/mods/v3"}
    assert mods.findtext("m:titleInfo/m:title", namespaces=m).startswith(TITLE)
    name = mods.find("m:name", m)
    assert name.get("type") == "personal" and name.findtext("m:namePart", namespaces=m) == "Shihab, M. Quraish"
    assert mods.findtext("m:typeOfResource", namespaces=m) == "text"
    assert mods.findtext("m:originInfo/m:publisher", namespaces=m) == "Erlangga"
    assert mods.findtext("m:originInfo/m:dateIssued", namespaces=m) == "2002"
    assert mods.findtext("m:originInfo/m:place/m:placeTerm", namespaces=m) == "Jakarta"
    assert [(i.get("type"), i.text) for i in mods.findall("m:identifier", m)] == [("isbn", ISBN)]
    assert [t.text for t in mods.findall("m:subject/m:topic", m)] == ["Tafsir"]
    assert mods.findtext("m:physicalDescription/m:extent", namespaces=m) == "xii, 250 hlm. 24 cm"
    assert mods.findtext("m:recordInfo/m:recordIdentifier", namespaces=m) == str(cid)
    # "All fields": the words typed, in quotes, with no index; and its other indexes
    assert number(ask(client, version="1.1", query='"tafsir al-misbah"', recordSchema="mods")) == 1
    assert number(ask(client, version="1.1", query=f'bath.isbn any "{ISBN}"', recordSchema="mods")) == 1
    assert number(ask(client, version="1.1", query='bath.name any "Shihab Quraish"', recordSchema="mods")) == 1
    # any of several numbers
    assert number(ask(client, query=f'bath.isbn any "{ISBN} 9780306406157"')) == 1
    assert diagnostic(ask(client, query=f'bath.isbn any "{ISBN} 12345"')) == ("36", "12345")


def test_slims_marc_sru_gets_marcxml_when_it_asks_for_marc(world, client):
    _world(world)
    root = ask(client, version="1.1", query='dc.title any "tafsir"', recordSchema="marc")
    assert number(root) == 1 and marc_records(root)[0]["245"]["a"].startswith(TITLE)
