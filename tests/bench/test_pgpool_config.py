"""pgpool-II is configured as the comparison needs: SR mode, reads balanced over replicas only, probes on primary."""

from pathlib import Path

from bench.pgpool import render_config
from localdev.cluster import Cluster


def settings(text: str) -> dict[str, str]:
    pairs = (line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    return {key: value.strip("'") for key, value in pairs}


def test_config_balances_reads_over_the_replicas_of_the_cluster(tmp_path: Path) -> None:
    cluster = Cluster(root=tmp_path, ports={"primary": 1001, "eu": 1002, "us": 1003, "asia": 1004})
    conf = settings(render_config(cluster, tmp_path, port=2001, pcp_port=2002, children=24))
    assert conf["backend_clustering_mode"] == "streaming_replication"
    assert conf["load_balance_mode"] == "on"
    assert (conf["port"], conf["num_init_children"], conf["listen_addresses"]) == ("2001", "24", "127.0.0.1")
    backends = {conf[f"backend_port{i}"]: conf[f"backend_weight{i}"] for i in range(4)}
    assert backends == {"1001": "0", "1002": "1", "1003": "1", "1004": "1"}
    # The app's health probe reads the primary's WAL position; on a standby that query fails.
    assert "pg_current_wal_lsn" in conf["write_function_list"].split(",")
    assert all(str(tmp_path) in conf[key] for key in ("socket_dir", "pcp_socket_dir", "pid_file_name", "logdir"))
