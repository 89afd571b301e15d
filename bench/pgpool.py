"""pgpool-II in streaming-replication mode with load balancing, in front of the local cluster (its own config).

Reads (SELECTs outside transactions) are balanced over the three replicas only (primary weight 0, as the app
never reads from a healthy cluster's primary); functions that must run on the primary are listed as writes.
"""

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.servers import ServerError, stop_process
from localdev.cluster import DATABASE, PG_BIN, PRIMARY, REPLICAS, SUPERUSER, Cluster, free_port

PGPOOL: Final = "/usr/sbin/pgpool"
# The app's health probe and write path call these; pgpool must never send them to a standby.
WRITE_FUNCTIONS: Final = "pg_current_wal_lsn,pg_current_wal_insert_lsn,nextval,setval"
BACKENDS: Final = (PRIMARY, *REPLICAS)


@dataclass(frozen=True)
class Pgpool:
    port: int
    proc: "subprocess.Popen[bytes]"

    backends: tuple[str, ...]  # node names in backend order

    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}?sslmode=disable"

    def select_counts(self) -> dict[str, int]:
        """SELECTs pgpool sent to each node (SHOW pool_nodes): evidence of where its reads went."""
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-A", "-F", "\t", "-d", self.dsn(), "-c", "SHOW pool_nodes"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerError(f"SHOW pool_nodes failed: {result.stderr.strip()}")
        header, *rows = (line.split("\t") for line in result.stdout.splitlines() if "\t" in line)
        node_id, count = header.index("node_id"), header.index("select_cnt")
        return {self.backends[int(row[node_id])]: int(row[count]) for row in rows}


def render_config(cluster: Cluster, workdir: Path, port: int, pcp_port: int, children: int) -> str:
    """pgpool.conf: SR mode, load balancing on, connection cache, no health checks/failover (not measured here)."""
    lines = [
        "backend_clustering_mode = 'streaming_replication'",
        "listen_addresses = '127.0.0.1'",
        f"port = {port}",
        f"socket_dir = '{workdir}'",
        "pcp_listen_addresses = '127.0.0.1'",
        f"pcp_port = {pcp_port}",
        f"pcp_socket_dir = '{workdir}'",
        f"wd_ipc_socket_dir = '{workdir}'",
        f"pid_file_name = '{workdir / 'pgpool.pid'}'",
        f"logdir = '{workdir}'",
        "log_destination = 'stderr'",
        "log_min_messages = warning",
        "use_watchdog = off",
        "enable_pool_hba = off",
        "pool_passwd = ''",
        f"num_init_children = {children}",
        "max_pool = 1",
        "connection_cache = on",
        "child_life_time = 0",
        "child_max_connections = 0",
        "connection_life_time = 0",
        "client_idle_limit = 0",
        "load_balance_mode = on",
        "statement_level_load_balance = off",
        f"write_function_list = '{WRITE_FUNCTIONS}'",
        "read_only_function_list = ''",
        "memory_cache_enabled = off",
        "health_check_period = 0",
        "sr_check_period = 0",
        f"sr_check_user = '{SUPERUSER}'",
        "sr_check_password = ''",
        "failover_on_backend_error = off",
        "search_primary_node_timeout = 10",
    ]
    for index, node in enumerate(BACKENDS):
        lines += [
            f"backend_hostname{index} = '127.0.0.1'",
            f"backend_port{index} = {cluster.ports[node]}",
            f"backend_weight{index} = {0 if node == PRIMARY else 1}",
            f"backend_data_directory{index} = '{cluster.datadir(node)}'",
            f"backend_flag{index} = 'ALLOW_TO_FAILOVER'",
            f"backend_application_name{index} = '{node}'",
        ]
    return "\n".join(lines) + "\n"


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_pgpool(cluster: Cluster, workdir: Path, children: int) -> Iterator[Pgpool]:
    """pgpool in the foreground (-n) under workdir; stopped when the block ends."""
    if shutil.which(PGPOOL) is None:
        raise ServerError(f"{PGPOOL} not found (scripts/bootstrap.sh installs the Debian package pgpool2)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "pgpool.conf"
    conf.write_text(render_config(cluster, workdir, port, free_port(), children))
    (workdir / "pcp.conf").write_text("")
    log = workdir / "pgpool.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PGPOOL, "-n", "-f", str(conf), "-F", str(workdir / "pcp.conf")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _accepting(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise ServerError(f"pgpool did not start listening on {port}:\n{tail}")
            time.sleep(0.1)
        yield Pgpool(port=port, proc=proc, backends=BACKENDS)
    finally:
        stop_process(proc)
