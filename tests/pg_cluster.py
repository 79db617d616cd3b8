"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, started on a free
loopback port, stopped and removed afterwards.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user Debian's
package creates (``runuser``). The binaries are found in $PHARMA_MAP_PG_BIN, then
/usr/lib/postgresql/*/bin (Debian), then on the PATH. ``PgUnavailable`` says why a cluster could
not be had; the tests skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN_ENV = "PHARMA_MAP_PG_BIN"


class PgUnavailable(Exception):
    """No PostgreSQL (with PostGIS) could be started here; the message says why."""


def find_bin() -> Path:
    candidates = [os.environ.get(PG_BIN_ENV, "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PgUnavailable("PostgreSQL is not installed (no initdb/pg_ctl in $PHARMA_MAP_PG_BIN,"
                        " /usr/lib/postgresql/*/bin or the PATH): apt-get install postgresql"
                        " postgresql-15-postgis-3 to run the PostgreSQL half of the store tests")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One cluster; ``url(db)`` addresses a database in it as the superuser ``pharma``."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PgUnavailable("running as root and there is no 'postgres' user to run the cluster as"
                                    " (PostgreSQL refuses to run as root)") from exc
        self.root = Path(tempfile.mkdtemp(prefix="pharma-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.started = False

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.root)

    def init(self) -> None:
        done = self._run("initdb", "-D", str(self.data), "-U", "pharma", "--auth=trust", "-E", "UTF8",
                         "--locale=C", "--no-sync")
        if done.returncode != 0:
            raise PgUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-400:]}")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=100"
                   " -c shared_buffers=32MB")
        done = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60",
                         "start")
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-600:] if self.log.exists() else ""
            raise PgUnavailable(f"pg_ctl start failed: {(done.stderr or done.stdout).strip()[-300:]} {log}")
        self.started = True

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> None:
        """Kill the server as a crash would (SIGKILL to the postmaster, its backends after it)."""
        pid = self.postmaster_pid()
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
        os.kill(pid, signal.SIGKILL)
        for child in children.split():
            try:
                os.kill(int(child), signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.started = False

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
            self.started = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://pharma@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, *, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            connection.execute(statement)


def start_cluster() -> Cluster:
    """A started cluster with a ``template_gis`` database (PostGIS enabled) to copy per test."""
    cluster = Cluster()
    try:
        cluster.init()
        cluster.start()
        cluster.sql("CREATE DATABASE template_gis")
        import psycopg

        try:
            cluster.sql("CREATE EXTENSION postgis", database="template_gis")
        except psycopg.Error as exc:
            raise PgUnavailable(f"PostGIS is not installed for this PostgreSQL ({exc}): apt-get install"
                                " postgresql-15-postgis-3") from exc
    except BaseException:
        cluster.remove()
        raise
    return cluster
