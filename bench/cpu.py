"""Where the CPU goes during a benchmark run: how busy the whole machine was (/proc/stat) and the CPU seconds of
each process group (the app's workers, the PostgreSQL and pgpool-II servers, the load generator, everything else)
from /proc/<pid>/stat. It is the profile behind the 10,000-user figure: what the app, the databases and the
generator each took of the machine.

Linux only, like the rest of the benchmark. A process that starts and ends inside the window is gone from /proc
before the window closes: the benchmark's own children that ended and were waited for in it (the load generator,
wrk or bench.think_users, run to completion) are counted from getrusage(RUSAGE_CHILDREN) as "generator"; anyone
else's show up only in the machine's busy share, so `unattributed` is the difference (with the kernel's interrupt
work for the loopback traffic).
"""

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

PROC: Final = Path("/proc")
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
GROUPS: Final = ("app", "database", "generator", "other")


class ProcessStat(NamedTuple):
    command: str
    parent: int
    cpu_s: float  # user + system
    started: int  # clock ticks after boot: tells a reused pid from the same process (commands can change)


def parse_stat(line: str) -> ProcessStat:
    """One /proc/<pid>/stat line; the command is in parentheses and may itself hold spaces and parentheses, so the
    fields are split after its last ')'."""
    opened, closed = line.index("("), line.rindex(")")
    fields = line[closed + 2 :].split()
    # proc(5), 1-based counting pid and comm: 3 state, 4 parent pid, 14 utime, 15 stime, 22 starttime.
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return ProcessStat(line[opened + 1 : closed], int(fields[1]), cpu_s, int(fields[19]))


def _processes() -> dict[int, ProcessStat]:
    out: dict[int, ProcessStat] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):  # it may end while we read it
                out[int(entry.name)] = parse_stat((entry / "stat").read_text())
    return out


def _machine_busy_total() -> tuple[int, int]:
    """Busy and total clock ticks of all CPUs since boot (idle and iowait count as not busy)."""
    ticks = [int(x) for x in (PROC / "stat").read_text().splitlines()[0].split()[1:9]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def _descendants(root: int, processes: dict[int, ProcessStat]) -> set[int]:
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, stat in processes.items() if stat.parent == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def group_of(pid: int, command: str, app_pids: set[int]) -> str:
    if pid in app_pids:
        return "app"
    if command.startswith(("postgres", "pgpool")):
        return "database"
    return "generator" if command == "wrk" else "other"


def _waited_children_cpu_s() -> float:
    """CPU seconds of this process's children that have ended and been waited for, since it started."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def cpu_profile(app_pid: int) -> Iterator[dict[str, Any]]:
    """Fills the yielded dict when the block ends: elapsed seconds, CPUs, the machine's busy share, and per group
    CPU seconds and share of the machine's capacity (elapsed x CPUs)."""
    cpus = os.cpu_count() or 1
    before, (busy0, total0), started = _processes(), _machine_busy_total(), time.monotonic()
    waited0 = _waited_children_cpu_s()
    result: dict[str, Any] = {}
    yield result
    after, (busy1, total1), elapsed = _processes(), _machine_busy_total(), time.monotonic() - started
    app_pids = _descendants(app_pid, after)
    seconds = dict.fromkeys(GROUPS, 0.0)
    seconds["generator"] += _waited_children_cpu_s() - waited0
    for pid, stat in after.items():
        previous = before.get(pid)
        used = stat.cpu_s - previous.cpu_s if previous is not None and previous.started == stat.started else stat.cpu_s
        seconds[group_of(pid, stat.command, app_pids)] += max(used, 0.0)
    capacity = elapsed * cpus
    busy_share = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    result |= {
        "elapsed_s": round(elapsed, 3),
        "cpus": cpus,
        "machine_busy_share": round(busy_share, 3),
        "cpu_s": {group: round(value, 2) for group, value in seconds.items()},
        "share": {group: round(value / capacity, 3) for group, value in seconds.items()},
        "unattributed_share": round(max(busy_share - sum(seconds.values()) / capacity, 0.0), 3),
    }
