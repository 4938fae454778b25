"""Imports as background runs: an upload becomes a queued ``ImportRun``; a
thread of the web process (the embedded default) or ``flask catalog worker``
runs it. Each run owns its commits: one for its start, one for its data and
result together, and a last one to record a failure."""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from ill.accounts import utcnow
from ill.config import setting
from ill.errors import ServiceError

from . import errors, harvest, importer, search, suggest
from .models import ImportRun

log = logging.getLogger(__name__)

_threads: dict[int, threading.Thread] = {}

# How a run ends: imported, stopped with nothing changed, or checked (what it
# would do, worked out and rolled back).
FINISHED = ("done", "failed", "checked")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def uploads_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _progress_path(run_id: int) -> Path:
    return uploads_dir() / f"run-{run_id}.progress"


def progress_of(run: ImportRun) -> dict | None:
    """How far a running import has read: {read, bytes, total} (from its
    progress file, since its own transaction is not visible until it ends)."""
    try:
        data = json.loads(_progress_path(run.id).read_text())
    except (OSError, ValueError):
        return None
    if data.get("total"):
        data["percent"] = min(100, int(100 * data["bytes"] / data["total"]))
    elif data.get("expected"):  # harvesting: records so far of those the repository announced
        data["percent"] = min(100, int(100 * data["read"] / data["expected"]))
    return data


def _write_progress(path: Path, data: dict) -> None:
    """A run's progress, replaced whole, so that a page never reads half of it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _progress_writer(run_id: int, extra=None):
    path = _progress_path(run_id)

    def write(read: int, done: int, total: int) -> None:
        _write_progress(path, {"read": read, "bytes": done, "total": total})
        if extra:
            extra(read, done, total)

    return write


def claim(session, run_id: int) -> bool:
    """Mark a queued run as running; False when another worker took it."""
    res = session.execute(update(ImportRun).where(ImportRun.id == run_id, ImportRun.status == "queued")
                          .values(status="running", started_at=utcnow(), worker=worker_name()))
    session.commit()
    return res.rowcount == 1


def execute(session, run_id: int, progress=None) -> ImportRun:
    """Run one claimed import to its end: its data and its result are
    committed together, or nothing but the failure is."""
    run = session.get(ImportRun, run_id)
    if run.status != "running":
        run.status, run.started_at, run.worker = "running", utcnow(), worker_name()
        session.commit()
    # kept: the run imported (its harvested file is kept, the index's upkeep runs)
    harvested_to, kept = None, False
    try:
        harvested = None
        if run.harvest and not run.stored_path:
            harvested_to = uploads_dir() / f"harvest-{run_id}.xml"
            harvested = _harvest(run, harvested_to, progress)
            run.stored_path = str(harvested_to)
            # the repository's time, from which the next incremental harvest asks
            run.harvest = {**run.harvest, "response_date": harvested["response_date"]}
        report = importer.import_export(session, run.partner, run.stored_path,
                                        items_path=run.items_stored_path, run=run, filename=run.filename,
                                        progress=_progress_writer(run_id, progress),
                                        allow_withdrawals=run.allow_withdrawals,
                                        incremental=bool((run.harvest or {}).get("since")))
        if harvested is not None:
            report["harvest"] = harvested
            run.report = dict(report)
        if run.check_only:  # what it would do, and nothing done
            session.rollback()
            run = session.get(ImportRun, run_id)
            importer.record_on_run(run, report)
            run.status, run.finished_at = "checked", utcnow()
            session.commit()
        else:
            run.status, run.finished_at = "done", utcnow()
            session.commit()
            kept = True
    except ServiceError as exc:
        _failed(session, run_id, exc.message, exc.details.get("problems"), exc.details.get("failure"),
                withdrawn=exc.details.get("withdrawn_records"))
    except Exception:  # noqa: BLE001 - a failed run is recorded, never lost
        log.exception("import run %s failed", run_id)
        _failed(session, run_id, "The import stopped on an unexpected error; nothing was changed. "
                "The team can find the details in the log.", None,
                tb=traceback.format_exc(limit=5))
    else:
        if kept:  # the catalogue changed: the index's upkeep, which never fails the run
            search.upkeep_after_commit(session, report["clusters"]["touched"])
            suggest.forget()  # the index's words may have changed
    finally:
        if harvested_to is not None and not kept:
            harvested_to.unlink(missing_ok=True)
        try:
            _progress_path(run_id).unlink(missing_ok=True)
        except OSError:
            pass
    run = session.get(ImportRun, run_id)
    _tell_who_asked(session, run)
    return run


def _tell_who_asked(session, run: ImportRun) -> None:
    """Whoever uploaded the export (or asked for the harvest) hears how it
    ended, by notice and mail, as their preferences say: a large import
    outlasts the page they started it from. Never fails the run."""
    if run.user is None or run.status not in ("done", "checked", "failed"):
        return
    from ill import notify

    try:
        notify.notify(session, run.user, "import_finished", dedupe_key=f"import_finished:{run.id}",
                      link=notify.site_url("catalog_imports.show", run_id=run.id),
                      library=f"{run.partner.name} ({run.partner.code})", run=run, status=run.status)
        session.commit()
    except Exception:  # noqa: BLE001 - the run has ended; the notice is a courtesy
        log.warning("could not tell user %s how import run %s ended", run.user_id, run.id, exc_info=True)
        session.rollback()


def _harvest(run: ImportRun, path: Path, progress=None) -> dict:
    """Harvest what the run names into path, with its progress on the page."""
    out = _progress_path(run.id)

    def advance(records: int, pages: int, expected: int | None) -> None:
        _write_progress(out, {"harvest": True, "read": records, "pages": pages, "expected": expected})
        if progress:
            progress(records, 0, 0)

    h = run.harvest
    got = harvest.harvest(h["url"], str(path), prefix=h.get("metadata_prefix", ""),
                          set_spec=h.get("set", ""), since=h.get("since", ""), progress=advance,
                          timeout=float(setting("CATALOG_HARVEST_TIMEOUT")))
    return got.as_dict()


def failure_text(run: ImportRun) -> str:
    """Why a run failed, in the reader's language where the failure says how."""
    return errors.failure_text((run.report or {}).get("failure"), run.failure or "")


def failure_kind(run: ImportRun) -> str:
    """What kind of failure a run had, where it says (``too_many_withdrawals``)."""
    return ((run.report or {}).get("failure") or {}).get("kind", "")


def _failed(session, run_id: int, message: str, problems, failure: dict | None = None,
            tb: str | None = None, withdrawn: list | None = None) -> None:
    session.rollback()
    run = session.get(ImportRun, run_id)
    run.status, run.finished_at, run.failure = "failed", utcnow(), message
    if problems or failure:
        run.report = {"problems": problems or [], **({"failure": failure} if failure else {}),
                      **({"withdrawn_records": withdrawn} if withdrawn else {})}
    if tb:
        log.error("import run %s: %s", run_id, tb)
    session.commit()


def recover_interrupted(session) -> int:
    """Runs left 'running' by a process of this host that no longer exists
    (killed midway: their transaction was rolled back) are marked failed."""
    host = socket.gethostname()
    count = 0
    for run in session.scalars(select(ImportRun).where(ImportRun.status == "running")):
        h, _, pid = (run.worker or "").rpartition(":")
        if h != host or not pid.isdigit() or _alive(int(pid)):
            continue
        run.status, run.finished_at = "failed", utcnow()
        run.failure = "The import was interrupted (its process ended); nothing was changed."
        count += 1
    return count


def tick(session, day) -> list[str]:
    """Housekeeping: runs interrupted by a dead process are marked failed,
    uploaded files of runs finished long ago are deleted (the report stays),
    and so are the partial files of harvests interrupted midway."""
    from datetime import timedelta

    lines = []
    n = recover_interrupted(session)
    if n:
        lines.append(f"{n} interrupted import(s) marked failed")
    keep = int(current_app.config.get("CATALOG_UPLOAD_KEEP_DAYS", 30))
    cutoff = utcnow() - timedelta(days=keep)
    folder = uploads_dir().resolve()
    purged = 0
    for run in session.scalars(select(ImportRun).where(ImportRun.status.in_(FINISHED),
                                                       ImportRun.finished_at < cutoff,
                                                       ImportRun.stored_path.is_not(None))):
        for attr in ("stored_path", "items_stored_path"):
            path = getattr(run, attr)
            # only files this service stored; a CLI import names the user's own file
            if path and Path(path).resolve().parent == folder:
                Path(path).unlink(missing_ok=True)
                setattr(run, attr, None)
                purged += 1
    if purged:
        lines.append(f"{purged} uploaded file(s) older than {keep} days deleted")
    # a harvest whose process died midway left its partial file, which no run names
    partial = 0
    for path in folder.glob("harvest-*.xml"):
        run_id = path.stem.removeprefix("harvest-")
        run = session.get(ImportRun, int(run_id)) if run_id.isdigit() else None
        if run is None or (run.status in FINISHED and run.stored_path != str(path)):
            path.unlink(missing_ok=True)
            partial += 1
    if partial:
        lines.append(f"{partial} harvested file(s) of interrupted harvests deleted")
    return lines


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start(app: Flask, run_id: int) -> None:
    """Run a queued import: in a thread of this process when so configured,
    else it waits for ``flask catalog worker``."""
    if not app.config.get("CATALOG_RUN_JOBS_IN_PROCESS"):
        return
    thread = threading.Thread(target=_thread_main, args=(app, run_id), daemon=True,
                              name=f"catalog-import-{run_id}")
    _threads[run_id] = thread
    thread.start()


def _thread_main(app: Flask, run_id: int) -> None:
    from ill.extensions import db

    with app.app_context():
        try:
            if claim(db.session, run_id):
                execute(db.session, run_id)
        finally:
            db.session.remove()


def wait(run_id: int, timeout: float | None = None) -> None:
    """For tests and shutdown: wait for an in-process run to end."""
    thread = _threads.get(run_id)
    if thread is not None:
        thread.join(timeout)


def next_queued(session) -> int | None:
    return session.scalar(select(ImportRun.id).where(ImportRun.status == "queued")
                          .order_by(ImportRun.id).limit(1))
