"""Helpers for the union catalogue's tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MARC_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "marc"


@pytest.fixture
def world(make, session, tmp_path):
    """Partners and their exports, imported the way the importer does."""
    from .world import World

    return World(make, session, tmp_path)


@pytest.fixture(scope="session")
def marc_dir(shared_dir) -> Path:
    return shared_dir / "data" / "marc"


@pytest.fixture(scope="session")
def exports(shared_dir, tmp_path_factory) -> Path:
    """A small generated set of partner exports with its known answer."""
    out = tmp_path_factory.mktemp("exports")
    subprocess.run([sys.executable, str(shared_dir / "bench" / "make_exports.py"), str(out),
                    "--editions", "2000"], check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def default_exports(shared_dir, tmp_path_factory) -> Path:
    """The generated set with make_exports.py's default options (17
    partners, some 60,000 records), as the importer's issue names it."""
    out = tmp_path_factory.mktemp("default-exports")
    subprocess.run([sys.executable, str(shared_dir / "bench" / "make_exports.py"), str(out)],
                   check=True, capture_output=True)
    return out
