"""A real SRU client against the union catalogue served over HTTP: YAZ's
yaz-client, from Debian's yaz package, the toolkit under Koha's copy
cataloguing (ZOOM) and most library systems' SRU and Z39.50 searches."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.live import served as serve

from .test_matching import ISBN
from .test_sru import _world

YAZ = shutil.which("yaz-client")


@pytest.fixture
def served(app):
    if YAZ is None:
        if os.environ.get("CI") == "true":
            pytest.fail("yaz-client is missing: install Debian's yaz package (make browser)")
        pytest.skip("yaz-client is missing: install Debian's yaz package (make browser)")
    with serve(app) as url:
        yield url


def yaz(url: str, *commands: str) -> str:
    script = "\n".join((f"open {url}/catalog/sru", "sru get 1.2", "querytype cql", "schema marcxml",
                        *commands, "quit")) + "\n"
    done = subprocess.run([YAZ], input=script, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_yaz_client_finds_a_record_to_copy(world, served):
    cid = _world(world)
    out = yaz(served, f"find bath.isbn={ISBN}", "show 1")
    assert "Received SRW SearchRetrieve Response" in out and "Number of hits: 1" in out
    assert f'<controlfield tag="001">{cid}</controlfield>' in out
    assert "(PNRI-OPAC)p1" in out and 'tag="952"' not in out

    out = yaz(served, "find dc.title=hukum and dc.date>=2005")
    assert "Number of hits: 2" in out


def test_yaz_client_is_told_what_it_cannot_ask(world, served):
    _world(world)
    out = yaz(served, "find dc.title=tafsir or dc.title=hukum")
    assert "SRW diagnostic info:srw/diagnostic/1/37" in out and "Details: or" in out
