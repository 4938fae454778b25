"""An import killed midway (kill -9) leaves the catalogue exactly as it was,
and the next import works: the CLI in a subprocess, on both databases."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from union_catalog.models import ImportRun, Item, SourceRecord

from .marcdata import books, iso

ROOT = Path(__file__).resolve().parents[2]


def _env(app) -> dict:
    env = dict(os.environ)
    env.update({"ILL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "ILL_SECRET_KEY": "kill-test", "ILL_DATA_DIR": app.config["DATA_DIR"],
                "PYTHONPATH": str(ROOT)})
    return env


def _counts(session):
    session.expire_all()
    session.rollback()
    return (session.scalar(select(func.count(SourceRecord.id))),
            session.scalar(select(func.count(SourceRecord.id)).where(SourceRecord.withdrawn_at.is_not(None))),
            session.scalar(select(func.count(Item.id))),
            session.scalar(select(func.max(SourceRecord.updated_at))))


def test_kill_9_midway_leaves_the_catalogue_as_it_was(app, make, session, tmp_path):
    lib = make.partner("UGM")
    make.commit()
    flask = [sys.executable, "-m", "flask", "--app", "ill", "catalog", "import", "--partner", "UGM"]
    first = tmp_path / "first.mrc"
    first.write_bytes(iso(books(300, prefix="a")))
    done = subprocess.run(flask + [str(first)], env=_env(app), cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    before = _counts(session)
    assert before[0] == 300

    big = tmp_path / "big.mrc"
    big.write_bytes(iso(books(6000, prefix="z")))  # replaces every record of the first
    replace_all = flask + ["--allow-withdrawals"]  # which is more than an import withdraws unasked
    proc = subprocess.Popen(replace_all + [str(big)], env=_env(app), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    uploads = Path(app.config["DATA_DIR"]) / "uploads"
    deadline = time.time() + 120
    killed_midway = False
    while time.time() < deadline and proc.poll() is None:
        progress = list(uploads.glob("run-*.progress")) if uploads.exists() else []
        if progress:
            try:
                read = json.loads(progress[0].read_text())["read"]
            except (OSError, ValueError, KeyError):
                read = 0
            if 0 < read < 6000:
                os.kill(proc.pid, signal.SIGKILL)
                killed_midway = True
                break
        time.sleep(0.01)
    proc.wait(timeout=30)
    assert killed_midway, "the import ended before it could be killed"
    assert proc.returncode == -signal.SIGKILL

    assert _counts(session) == before

    again = subprocess.run(replace_all + [str(big)], env=_env(app), cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    total, withdrawn, items, _ = _counts(session)
    assert (total, withdrawn, items) == (6300, 300, 6000)
    statuses = sorted(session.scalars(select(ImportRun.status).order_by(ImportRun.id)).all())
    # the killed run is recorded as interrupted, not left 'running' forever
    assert statuses == ["done", "done", "failed"]
    assert lib.id
