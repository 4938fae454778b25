"""Finding a real PostgreSQL server for the tests.

In order: ILL_TEST_DATABASE_URL; the server on 127.0.0.1:5432 where it lets us
create a database; a throwaway cluster started from the machine's PostgreSQL
binaries. Where none can be had the PostgreSQL tests skip, saying why, except
under CI=true, where they must run."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid


class NoPostgres(Exception):
    pass


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:
        raise NoPostgres("psycopg is not installed (pip install -e '.[postgres]')") from exc
    return psycopg


def _try_create(admin_url: str, name: str) -> str:
    psycopg = _psycopg()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    psycopg = _psycopg()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # noqa: BLE001 - best effort clean-up
        pass


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One PostgreSQL server to make test databases on."""

    def __init__(self):
        self.admin_url: str | None = None
        self._tmp: str | None = None
        self._pg_ctl: str | None = None
        self.how = ""

    def start(self) -> None:
        errors = []
        url = os.environ.get("ILL_TEST_DATABASE_URL")
        if url:
            self.admin_url = url.replace("postgresql+psycopg://", "postgresql://")
            self.how = "ILL_TEST_DATABASE_URL"
            return
        for candidate in ("postgresql://postgres@127.0.0.1:5432/postgres",
                          f"postgresql://{os.environ.get('USER', 'root')}@127.0.0.1:5432/postgres"):
            try:
                name = "ill_probe_" + uuid.uuid4().hex[:8]
                _try_create(candidate, name)
                drop_database(candidate, name)
                self.admin_url = candidate
                self.how = "server on 127.0.0.1:5432"
                return
            except NoPostgres:
                raise
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{candidate}: {exc}")
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (initdb and pg_ctl):
            raise NoPostgres("no server on 127.0.0.1:5432 and no PostgreSQL binaries to start one; "
                             + "; ".join(errors))
        self._tmp = tempfile.mkdtemp(prefix="ill-pg-")
        data = os.path.join(self._tmp, "data")
        port = _free_port()
        env = dict(os.environ)
        run_as = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self._tmp, "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        subprocess.run(run_as + [initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                       capture_output=True, env=env)
        subprocess.run(run_as + [pg_ctl, "-D", data, "-o", f"-p {port} -k {self._tmp} -c listen_addresses=127.0.0.1",
                                 "-l", os.path.join(self._tmp, "log"), "-w", "start"],
                       check=True, capture_output=True, env=env)
        self._pg_ctl = pg_ctl
        self._run_as = run_as
        self._data = data
        self.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.how = f"throwaway cluster on port {port}"
        for _ in range(50):
            try:
                _psycopg().connect(self.admin_url, connect_timeout=1).close()
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.1)

    def create_database(self) -> tuple[str, str]:
        name = "ill_test_" + uuid.uuid4().hex[:10]
        url = _try_create(self.admin_url, name)
        return name, url.replace("postgresql://", "postgresql+psycopg://", 1)

    def drop(self, name: str) -> None:
        drop_database(self.admin_url, name)

    def stop(self) -> None:
        if self._pg_ctl:
            subprocess.run(self._run_as + [self._pg_ctl, "-D", self._data, "-m", "immediate", "stop"],
                           capture_output=True)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
