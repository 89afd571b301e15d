"""A PostgreSQL 15 primary plus eu/us/asia streaming replicas on loopback, under a directory of .local/.

Used by `python -m localdev run` and by the pytest fixture, so both exercise the same code. Ports are
picked free at run time (bind to port 0). PostgreSQL refuses to run as root, so when we are root every
server-side command runs as the unprivileged `postgres` user, which owns the cluster directory.
"""

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from contracts.regions import PRIMARY_NODE, REGIONS

PG_BIN: Final = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PRIMARY: Final = PRIMARY_NODE
REPLICAS: Final = REGIONS  # one streaming replica per logical region, named after it
NODES: Final = (PRIMARY, *REPLICAS)
DATABASE: Final = "app"
SUPERUSER: Final = "postgres"
STATE_FILE: Final = "cluster.json"

# Local, throwaway data: durability off and small WAL (1 MB segments, initdb --wal-segsize) for speed and
# little disk; quick reconnects so tests see recovery fast.
SERVER_SETTINGS: Final = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
shared_buffers = 32MB
fsync = off
full_page_writes = off
wal_level = replica
min_wal_size = '4MB'
max_wal_size = '64MB'
max_wal_senders = 10
hot_standby = on
hot_standby_feedback = on
wal_retrieve_retry_interval = '500ms'
wal_receiver_status_interval = '1s'
log_min_messages = warning
log_line_prefix = '%m [%p] '
"""


class ClusterError(RuntimeError):
    """A cluster command failed; the message says which and includes the server log's tail."""


def free_port() -> int:
    """A currently free loopback port chosen by the kernel (never a fixed number)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_user_prefix() -> list[str]:
    """Run server commands as `postgres` when we are root (initdb/postgres refuse root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise ClusterError("running as root but there is no 'postgres' user to run PostgreSQL as") from None
    return ["runuser", "-u", SUPERUSER, "--"]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(SUPERUSER)
    os.chown(path, user.pw_uid, user.pw_gid)


@dataclass
class Cluster:
    """Handle on a cluster directory: node data dirs, ports and control helpers."""

    root: Path
    ports: dict[str, int]

    # ---- locations -------------------------------------------------------------------------------
    def datadir(self, node: str) -> Path:
        return self.root / node

    def logfile(self, node: str) -> Path:
        return self.root / "logs" / f"{node}.log"

    def dsn(self, node: str, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """Local URL of `node`; `user` logs in without a password (the cluster trusts local TCP connections)."""
        return f"postgresql://{user}@127.0.0.1:{self.ports[node]}/{database}?sslmode=disable"

    # ---- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, extra_settings: str = "") -> "Cluster":
        """initdb the primary, start it, create the app database, then base-backup and start replicas;
        `extra_settings` (postgresql.conf lines) follow SERVER_SETTINGS, so they win, on every node."""
        if not (PG_BIN / "initdb").exists():
            raise ClusterError(f"PostgreSQL 15 binaries not found in {PG_BIN} (run scripts/bootstrap.sh)")
        if root.exists():
            cleanup(root)
        (root / "logs").mkdir(parents=True)
        for path in (root, root / "logs"):
            _chown_to_server_user(path)
        cluster = cls(root=root, ports={node: free_port() for node in NODES})
        cluster._save()
        try:
            cluster._server(
                "initdb", "-D", str(cluster.datadir(PRIMARY)), "-U", SUPERUSER, "--auth=trust",
                "--no-sync", "--encoding=UTF8", "--locale=C", "--wal-segsize=1",
            )  # fmt: skip
            with (cluster.datadir(PRIMARY) / "postgresql.conf").open("a") as conf:
                conf.write(SERVER_SETTINGS + extra_settings)
            cluster.start_node(PRIMARY)
            cluster.sql(PRIMARY, f"CREATE DATABASE {DATABASE}", database="postgres")
            for node in REPLICAS:
                cluster._server(
                    "pg_basebackup", "-h", "127.0.0.1", "-p", str(cluster.ports[PRIMARY]), "-U", SUPERUSER,
                    "-D", str(cluster.datadir(node)), "-R", "-X", "stream", "-c", "fast", "--no-sync",
                    "-d", f"application_name={node}",
                )  # fmt: skip
                cluster.start_node(node)
            cluster.wait_streaming()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @classmethod
    def load(cls, root: Path) -> "Cluster":
        state = json.loads((root / STATE_FILE).read_text())
        return cls(root=root, ports={str(k): int(v) for k, v in state["ports"].items()})

    def _save(self) -> None:
        (self.root / STATE_FILE).write_text(json.dumps({"ports": self.ports}, indent=2))

    def is_running(self, node: str) -> bool:
        try:
            run_server(self.root, "pg_ctl", "status", "-D", str(self.datadir(node)))
        except ClusterError:
            return False
        return True

    def start_node(self, node: str) -> None:
        """Start a node and wait until it accepts connections (a replica resumes streaming by itself)."""
        self._server(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir(node)),
            "-l", str(self.logfile(node)), "-o", f"-p {self.ports[node]}",
        )  # fmt: skip

    def stop_node(self, node: str, mode: str = "immediate") -> None:
        """Stop a node; `immediate` is a crash as far as clients are concerned."""
        self._server("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.datadir(node)))

    def stop(self, mode: str = "fast") -> None:
        """Stop every node that is running; never raises for nodes that are already down."""
        for node in reversed(NODES):
            if self.datadir(node).exists() and self.is_running(node):
                with contextlib.suppress(ClusterError):
                    self.stop_node(node, mode)

    def restore(self) -> None:
        """Bring every node back to running with replay resumed (tests call this after damage)."""
        for node in NODES:
            if not self.is_running(node):
                self.start_node(node)
        for node in REPLICAS:
            self.resume_replay(node)

    # ---- replication controls --------------------------------------------------------------------
    def pause_replay(self, node: str) -> None:
        self.sql(node, "SELECT pg_wal_replay_pause()")

    def resume_replay(self, node: str) -> None:
        self.sql(node, "SELECT pg_wal_replay_resume()")

    def wait_streaming(self, timeout_s: float = 30) -> None:
        """Wait until every replica streams from the primary."""
        deadline = time.monotonic() + timeout_s
        while True:
            count = self.sql(PRIMARY, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
            if int(count) >= len(REPLICAS):
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"only {count} of {len(REPLICAS)} replicas streaming after {timeout_s}s")
            time.sleep(0.1)

    def sql(self, node: str, query: str, database: str = DATABASE) -> str:
        """Run one statement with psql on a node and return its unaligned output."""
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(node, database),
             "-c", query],
            capture_output=True, text=True, check=False, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        )  # fmt: skip
        if result.returncode != 0:
            raise ClusterError(f"psql on {node} failed: {query!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    # ---- plumbing --------------------------------------------------------------------------------
    def _server(self, program: str, *args: str) -> None:
        try:
            run_server(self.root, program, *args)
        except ClusterError as exc:
            raise ClusterError(f"{exc}{self._log_tail()}") from None

    def _log_tail(self) -> str:
        tails = []
        for log in sorted((self.root / "logs").glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-5:]
            if lines:
                tails.append(f"\n--- {log.name}\n" + "\n".join(lines))
        return "".join(tails)


def _server_command(program: str, *args: str) -> list[str]:
    return [*_server_user_prefix(), str(PG_BIN / program), *args]


def run_server(cwd: Path, program: str, *args: str) -> None:
    """Run a server-side binary as the server user in its own session (terminal Ctrl-C skips it)."""
    result = subprocess.run(
        _server_command(program, *args),
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        cwd=cwd,
    )
    if result.returncode != 0:
        raise ClusterError(f"{program} {' '.join(args)} failed:\n{result.stderr.strip()}")


def cleanup(root: Path) -> list[Path]:
    """Stop whatever runs from a cluster directory (even half-created), all nodes at once, delete it,
    and return the data directories that were stopped."""
    datadirs = sorted(pidfile.parent for pidfile in root.glob("*/postmaster.pid"))
    stops = [
        (datadir, subprocess.Popen(
            _server_command("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(datadir)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=root,
        ))
        for datadir in datadirs
    ]  # fmt: skip
    stopped = [datadir for datadir, proc in stops if proc.wait() == 0]
    shutil.rmtree(root, ignore_errors=True)
    return stopped
