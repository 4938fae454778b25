"""A small OAI-PMH repository on a real local HTTP server, for harvest tests.

It answers ListRecords a page at a time with resumption tokens (and
``from``, for records given as Stamped), Identify and ListMetadataFormats;
a test changes its records, its page size, its clock, or queues answers (a
status, a body) for the next requests."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from pymarc import record_to_xml

OAI = "http://www.openarchives.org/OAI/2.0/"


@dataclass
class Stamped:
    """A record with its own identifier and datestamp (``from`` compares
    the datestamp); record None: listed as deleted."""

    identifier: str
    datestamp: str
    record: object = None


class Repository:
    def __init__(self, records=None, page_size: int = 2, formats=("marc21", "oai_dc"),
                 deleted_record: str = "transient", granularity: str = "YYYY-MM-DDThh:mm:ssZ"):
        # pymarc Records, or ("deleted", id), or ("dc", id), or Stamped
        self.records = list(records or [])
        self.page_size = page_size
        self.formats = formats
        self.deleted_record, self.granularity = deleted_record, granularity
        self.now = "2026-12-07T00:00:00Z"  # responseDate
        self.sets = {}  # setSpec -> indexes of records in it
        self.queued: list[tuple[int, bytes, dict]] = []  # answers given before the real ones
        self.requests: list[dict] = []
        self.repeat_token = False

    def answer(self, params: dict) -> tuple[int, bytes, dict]:
        self.requests.append(params)
        if self.queued:
            return self.queued.pop(0)
        verb = params.get("verb")
        if verb == "Identify":
            return 200, self.envelope(
                "<Identify><repositoryName>Katalog Uji</repositoryName>"
                "<baseURL>http://x/oai</baseURL><protocolVersion>2.0</protocolVersion>"
                f"<deletedRecord>{self.deleted_record}</deletedRecord>"
                f"<granularity>{self.granularity}</granularity></Identify>"), {}
        if verb == "ListMetadataFormats":
            body = "".join(f"<metadataFormat><metadataPrefix>{f}</metadataPrefix></metadataFormat>"
                           for f in self.formats)
            return 200, self.envelope(f"<ListMetadataFormats>{body}</ListMetadataFormats>"), {}
        if verb != "ListRecords":
            return 200, self.envelope('<error code="badVerb">Illegal verb</error>'), {}
        if "resumptionToken" in params:
            prefix, set_spec, since, start = params["resumptionToken"].split("|")
            start = int(start)
        else:
            prefix, set_spec, since, start = (params.get("metadataPrefix", ""), params.get("set", ""),
                                              params.get("from", ""), 0)
        if prefix not in self.formats:
            return 200, self.envelope('<error code="cannotDisseminateFormat">no such format</error>'), {}
        if since and len(since) != len("YYYY-MM-DD") and self.granularity == "YYYY-MM-DD":
            return 200, self.envelope('<error code="badArgument">from: days only</error>'), {}
        chosen = [r for i, r in enumerate(self.records) if not set_spec or i in self.sets.get(set_spec, ())]
        if since:
            chosen = [r for r in chosen if isinstance(r, Stamped) and r.datestamp[:len(since)] >= since]
        if not chosen:
            return 200, self.envelope('<error code="noRecordsMatch">nothing</error>'), {}
        page = chosen[start:start + self.page_size]
        body = "".join(_record(r, start + n) for n, r in enumerate(page))
        nxt = start + self.page_size
        if nxt < len(chosen):
            token = f"{prefix}|{set_spec}|{since}|{start if self.repeat_token else nxt}"
            body += (f'<resumptionToken completeListSize="{len(chosen)}" cursor="{start}">'
                     f"{escape(token)}</resumptionToken>")
        elif start:
            body += f'<resumptionToken completeListSize="{len(chosen)}" cursor="{start}"/>'
        return 200, self.envelope(f"<ListRecords>{body}</ListRecords>"), {}

    def envelope(self, inner: str) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI}">'
                f"<responseDate>{self.now}</responseDate><request>http://x/oai</request>"
                f"{inner}</OAI-PMH>").encode()


def _record(r, n: int) -> str:
    if isinstance(r, Stamped):
        if r.record is None:
            return (f'<record><header status="deleted"><identifier>{escape(r.identifier)}</identifier>'
                    f"<datestamp>{r.datestamp}</datestamp></header></record>")
        return _record(r.record, n).replace(f"<identifier>oai:test:{n}</identifier>",
                                            f"<identifier>{escape(r.identifier)}</identifier>", 1).replace(
            "<datestamp>2026-01-01</datestamp>", f"<datestamp>{r.datestamp}</datestamp>", 1)
    if isinstance(r, tuple) and r[0] == "deleted":
        return (f'<record><header status="deleted"><identifier>oai:test:{r[1]}</identifier>'
                "<datestamp>2026-01-01</datestamp></header></record>")
    if isinstance(r, tuple) and r[0] == "dc":  # ("dc", id) or ("dc", id, {element: value or [values]})
        inner = "".join(f"<dc:{name}>{escape(v)}</dc:{name}>" for name, values in (r[2] if len(r) > 2 else {}).items()
                        for v in ([values] if isinstance(values, str) else values))
        return (f"<record><header><identifier>oai:test:{r[1]}</identifier></header><metadata>"
                '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                f'xmlns:dc="http://purl.org/dc/elements/1.1/">{inner}</oai_dc:dc>'
                "</metadata></record>")
    # the MARC record with a prefix, as some repositories write it
    marc = record_to_xml(r, namespace=True).decode()
    marc = marc.replace("<record", "<marc:record", 1).replace(
        'xmlns="http://www.loc.gov/MARC21/slim"', 'xmlns:marc="http://www.loc.gov/MARC21/slim"', 1)
    marc = marc.replace("<leader", "<marc:leader").replace("</leader", "</marc:leader")
    for name in ("controlfield", "datafield", "subfield"):
        marc = marc.replace(f"<{name}", f"<marc:{name}").replace(f"</{name}", f"</marc:{name}")
    marc = marc.replace("</record>", "</marc:record>")
    return (f"<record><header><identifier>oai:test:{n}</identifier>"
            f"<datestamp>2026-01-01</datestamp></header><metadata>{marc}</metadata></record>")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        if parts.path != "/oai":
            self.send_response(404)
            self.end_headers()
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        status, body, headers = self.server.repository.answer(params)
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


class Server:
    def __init__(self, repository: Repository):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.repository = repository
        self.repository = repository
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
