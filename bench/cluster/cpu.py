"""Where the two cores went during the cluster run: CPU seconds per tier, sampled from /proc once a second.

Each process on the machine is put in a tier by its command line (PostgreSQL, the app servers, the workers, the S3
and SMTP servers, Redis, the entry point, this script and its load-generating children; anything else is "other",
the machine's own noise). A process's CPU time is its own user + system time (``/proc/PID/stat``), counted as the
growth between two samples, so a process that ends loses at most its last second, and a child's time is never
counted again in the parent that waits for it.
"""
from __future__ import annotations

import collections
import os
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")
TIERS = (  # (tier, a piece of the command line); the first that matches
    ("app servers", "gunicorn"),
    ("workers", "bench.cluster.worker"),
    ("S3 (moto)", "moto.server"),
    ("SMTP sink", "bench.cluster.smtp_sink"),
    ("entry point", "bench.cluster.proxy"),
    ("Redis", "redis-server"),
)


def tier_of(pid: int, cmdline: str, comm: str, me: int, my_children: set[int]) -> str:
    if comm == "postgres" or cmdline.startswith("postgres"):
        return "PostgreSQL"
    for tier, piece in TIERS:
        if piece in cmdline:
            return tier
    if pid == me or pid in my_children:
        return "load generator (this script)"
    return "other"


def _processes() -> dict[int, tuple[str, str, int, float]]:
    """pid -> (command line, comm, parent pid, CPU seconds so far) for every process that can be read."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue  # ended meanwhile
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        out[int(name)] = (cmdline, comm, ppid, (utime + stime) / TICKS)
    return out


class CpuSampler:
    """``start()``, then ``stop()``; ``by_slice(origin, seconds)``: CPU seconds per tier in slices of the run."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []  # (wall time, tier -> CPU seconds since the last)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        me = os.getpid()
        last: dict[int, float] = {}
        while not self._stop.is_set():
            procs = _processes()
            mine = {pid for pid, (_, _, ppid, _) in procs.items() if ppid == me}
            used: dict[str, float] = collections.defaultdict(float)
            seen: dict[int, float] = {}
            for pid, (cmdline, comm, _, cpu) in procs.items():
                seen[pid] = cpu
                if pid in last:  # a process seen for the first time counts from its next sample on
                    used[tier_of(pid, cmdline, comm, me, mine)] += max(0.0, cpu - last[pid])
            last = seen
            if used:
                self.samples.append((time.time(), dict(used)))
            self._stop.wait(self.interval)

    def by_slice(self, origin: float, seconds: float, end: float | None = None) -> list[dict]:
        """From ``origin`` (wall time) to ``end`` in slices of ``seconds``: each tier's share of the machine's
        cores (1.0 = one core busy all the time), and the total."""
        cores = os.cpu_count() or 1
        slices: dict[int, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
        for at, used in self.samples:
            if at < origin or (end is not None and at >= end):
                continue
            for tier, cpu in used.items():
                slices[int((at - origin) // seconds)][tier] += cpu
        out = []
        for n, used in sorted(slices.items()):
            row = {tier: round(cpu / seconds, 2) for tier, cpu in sorted(used.items(), key=lambda kv: -kv[1])}
            out.append({"from_s": int(n * seconds), "cores_busy": round(sum(used.values()) / seconds, 2),
                        "of_cores": cores, "by_tier": row})
        return out

    def totals(self, origin: float, end: float) -> dict:
        """Each tier's average number of busy cores from ``origin`` to ``end``."""
        span = max(end - origin, 1e-9)
        used: dict[str, float] = collections.defaultdict(float)
        for at, sample in self.samples:
            if origin <= at < end:
                for tier, cpu in sample.items():
                    used[tier] += cpu
        return {tier: round(cpu / span, 2) for tier, cpu in sorted(used.items(), key=lambda kv: -kv[1])}
