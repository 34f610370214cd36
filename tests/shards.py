"""Run the whole suite as pytest processes side by side, one per shard: ``python tests/shards.py [pytest args]``.

A single pytest process keeps one core busy at best (and the browser tests far less: they wait on Chromium and
the live server), so on CI's two cores the suite runs as four shards at once (``LEADTHE_TEST_SHARD``, see
``shard_of`` in tests/conftest.py): the browser sweep of every page, the other browser tests, the tests on
PostgreSQL (when LEADTHE_TEST_DATABASE_URL is set) and the rest (SQLite, and the tests that use no database). Every test is in
exactly one shard. Each shard's output is printed whole when it ends, then a summary with each one's time.

The exit status is the first failing shard's; a shard that collected nothing (exit 5, e.g. ``-m "not
browser"`` leaves the browser shard empty) is no failure unless every shard collected nothing.
``LEADTHE_TEST_SHARDS=off`` runs one plain pytest process instead.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_TESTS = 5  # pytest's exit status when nothing was collected (or everything deselected)
HEARTBEAT = 120  # seconds between "still running" lines, so a quiet log is not mistaken for a hang
REPORT_LINES = 40  # a shard killed by a signal: how much of its log is repeated at the end


def crash_report(log: str) -> list[str]:
    """What to repeat of a shard's log when a signal killed it: pytest's faulthandler report from its first line
    (the test that was running is in the first frames), or else the log's last lines."""
    lines = log.splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("Fatal Python error")]
    return lines[starts[-1]:starts[-1] + REPORT_LINES] if starts else lines[-REPORT_LINES:]


def describe(code: int) -> str:
    """An exit status as a person reads it: 0, 1, or the signal that killed the process (-7: SIGBUS)."""
    if code >= 0:
        return str(code)
    try:
        return f"{code} ({signal.Signals(-code).name})"
    except ValueError:
        return str(code)


def shards() -> list[str]:
    names = ["sweep", "browser", "sqlite"]  # the longest first
    if os.environ.get("LEADTHE_TEST_DATABASE_URL", "").strip():
        names.insert(1, "postgresql")
    return names


def main(args: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    if os.environ.get("LEADTHE_TEST_SHARDS", "").strip().lower() in ("off", "0", "no"):
        os.chdir(ROOT)
        os.execv(sys.executable, pytest + args)  # this process becomes pytest
    work = Path(tempfile.mkdtemp(prefix="leadthe-shards-"))
    running = {}
    started = time.monotonic()
    for name in shards():
        extra = []
        if not any(a.startswith("--basetemp") for a in args):
            extra.append(f"--basetemp={work / name}")  # pytest empties its basetemp: one each
        if "no:cacheprovider" not in args:
            extra += ["-o", f"cache_dir=.pytest_cache/{name}"]  # --lf and friends per shard, no two writing one file
        log = open(work / f"{name}.log", "w+", encoding="utf-8")
        env = {**os.environ, "LEADTHE_TEST_SHARD": name}
        proc = subprocess.Popen(pytest + extra + args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        running[name] = (proc, log)
    print(f"pytest in {len(running)} shards side by side: {', '.join(running)} (logs in {work})", flush=True)

    results: dict[str, tuple[int, float]] = {}
    tails: dict[str, list[str]] = {}
    last_beat = time.monotonic()
    try:
        while running:
            for name, (proc, log) in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                seconds = time.monotonic() - started
                results[name] = (code, seconds)
                del running[name]
                log.seek(0)
                text = log.read()
                if code < 0:  # killed by a signal: where it died again at the very end, where a cut-off log still shows it
                    tails[name] = crash_report(text)
                print(f"\n{'=' * 30} shard {name}: exit {describe(code)} after {seconds:.0f} s {'=' * 30}", flush=True)
                sys.stdout.write(text)
                sys.stdout.flush()
                log.close()
            if running and time.monotonic() - last_beat >= HEARTBEAT:
                last_beat = time.monotonic()
                print(f"... {time.monotonic() - started:.0f} s: still running: {', '.join(running)}", flush=True)
            time.sleep(0.5)
    finally:  # interrupted (Ctrl-C, or CI's SIGTERM): no shard is left running
        for proc, _ in running.values():
            proc.terminate()
        for proc, _ in running.values():
            proc.wait()

    for name, lines in tails.items():
        print(f"\n{'=' * 30} shard {name} died (exit {describe(results[name][0])}), in {'=' * 30}")
        print("\n".join(lines), flush=True)
    print(f"\nshards (wall-clock {time.monotonic() - started:.0f} s): "
          + ", ".join(f"{name} exit {describe(code)} after {seconds:.0f} s" for name, (code, seconds) in results.items()),
          flush=True)
    codes = [code for code, _ in results.values()]
    if all(code == NO_TESTS for code in codes):
        return NO_TESTS
    failed = [code if code > 0 else 1 for code in codes if code not in (0, NO_TESTS)]  # killed by a signal: 1
    if not failed:
        shutil.rmtree(work, ignore_errors=True)  # the logs were printed; a failed run keeps its temporary files
    return failed[0] if failed else 0


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through main's clean-up


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main(sys.argv[1:]))
