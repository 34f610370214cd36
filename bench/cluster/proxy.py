"""The cluster run's one entry point: a small round-robin HTTP/1.1 load balancer on asyncio (stdlib only).

    python -m bench.cluster.proxy --listen 8080 --backend 127.0.0.1:8001 --backend 127.0.0.1:8002 --stats stats.json

Like nginx's upstream block with passive and active health checks:
- each request goes to the next app server in turn; a server that refuses the connection (or does not accept it
  within a second) is marked down and the request goes to the other one at once;
- a GET/HEAD whose server closed the connection before answering a byte (an app server killed mid-request) is
  sent to the other server (nginx's ``proxy_next_upstream error``); a POST is not repeated (it may have run):
  the client gets a 502, as it would from nginx;
- every second ``GET /healthz`` (5 s to answer) on each server: a server marked down gets traffic again only
  once its health check passes (so not while a restarted server's workers are still booting).
- with ``--maxconn N`` (HAProxy's ``maxconn`` on each server, set to its sync workers): at most N requests at
  a time on each server that is up, a request going to the next server in turn that has a free slot (until
  2026-12-08 the limit was N times the servers up, in all, so one slow server could hold N+1 requests, one
  waiting in its accept queue, while a worker of the other sat idle); the others wait here, not in a server's
  accept queue, and leave it by
  priority (HAProxy's ``http-request set-priority-class``): paths under a ``--bulk-path`` prefix (the export
  requests, their polls and downloads) after every other waiting request, so a burst of them never queues a
  learner's page behind it; within a class, first come first served.
One request per client connection (the answer ends with the connection, like gunicorn's sync workers do);
``X-Forwarded-For`` gets the client's address (the app runs with LEADTHE_PROXY_HOPS=1), ``X-Forwarded-Proto``
is ``http``. On SIGTERM it writes its counters to ``--stats`` and stops.
"""
from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import signal
import time

HOP_HEADERS = {b"connection", b"keep-alive", b"proxy-connection", b"te", b"upgrade", b"x-forwarded-proto",
               b"x-forwarded-host"}
IDEMPOTENT = {b"GET", b"HEAD", b"OPTIONS"}


class Balancer:
    def __init__(self, backends: list[tuple[str, int]], maxconn: int = 0, bulk_paths: tuple[bytes, ...] = ()):
        self.backends = backends
        self.up = [True] * len(backends)
        self.turn = 0
        self.maxconn, self.bulk_paths = maxconn, bulk_paths
        self.busy, self.waiting, self.arrivals = [0] * len(backends), [], itertools.count()
        self.stats = {"requests": 0, "retried": 0, "bad_gateway": 0, "per_backend": [0] * len(backends),
                      "marked_down": [0] * len(backends), "maxconn": maxconn,
                      "waited": {"pages": 0, "bulk": 0}, "max_wait_ms": {"pages": 0.0, "bulk": 0.0}}

    # --- HAProxy's maxconn and priority classes ---------------------------------------------------------------

    def free_server(self) -> int | None:
        """The next server in turn that is up and has a free slot, or None."""
        n = len(self.backends)
        for k in range(n):
            i = (self.turn + k) % n
            if self.up[i] and self.busy[i] < self.maxconn:
                self.turn = (i + 1) % n
                return i
        return None

    async def acquire(self, bulk: bool) -> int | None:
        """A slot on one server (its index): at once while a server that is up has fewer than ``maxconn``
        requests and nobody waits; else in line, pages before bulk requests, each class in order of arrival.
        None without ``--maxconn`` (every request goes straight through, to the next server in turn)."""
        if not self.maxconn:
            return None
        if not self.waiting:
            i = self.free_server()
            if i is not None:
                self.busy[i] += 1
                return i
        label, started = ("bulk" if bulk else "pages"), time.monotonic()
        ticket = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (int(bulk), next(self.arrivals), ticket))
        i = await ticket  # the slot was counted for us by wake()
        self.stats["waited"][label] += 1
        waited = (time.monotonic() - started) * 1000
        self.stats["max_wait_ms"][label] = round(max(self.stats["max_wait_ms"][label], waited), 1)
        return i

    def release(self, i: int | None) -> None:
        if i is not None:
            self.busy[i] -= 1
            self.wake()

    def wake(self) -> None:
        while self.waiting:
            i = self.free_server()
            if i is None:
                return
            _, _, ticket = heapq.heappop(self.waiting)
            if not ticket.done():
                self.busy[i] += 1
                ticket.set_result(i)

    def order(self, first: int | None = None) -> list[int]:
        """The servers to try for a request: ``first`` (the server whose slot it holds) or the next in turn, then
        the others that are up, those marked down last (when every server is down, each is still tried once)."""
        n = len(self.backends)
        if first is None:
            first, self.turn = self.turn, (self.turn + 1) % n
        ring = [(first + k) % n for k in range(n)]
        return [ring[0]] + [i for i in ring[1:] if self.up[i]] + [i for i in ring[1:] if not self.up[i]]

    def mark_down(self, i: int) -> None:
        """Down until a health check passes again: a restarted server gets no traffic while it boots."""
        if self.up[i]:
            self.stats["marked_down"][i] += 1
        self.up[i] = False

    async def health(self, i: int) -> None:
        host, port = self.backends[i]
        while True:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
                try:
                    writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                    await writer.drain()
                    line = await asyncio.wait_for(reader.readline(), 5)
                finally:
                    writer.close()
                if line.split(b" ")[1:2] == [b"200"]:
                    self.up[i] = True
                    self.wake()  # its slots are open again
                else:
                    self.mark_down(i)
            except (OSError, asyncio.TimeoutError):
                self.mark_down(i)
            await asyncio.sleep(1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        lines = head[:-4].split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        headers, length, forwarded = [], 0, b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding":
                writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if key == b"x-forwarded-for":
                forwarded = value.strip() + b", "
                continue
            if key not in HOP_HEADERS:
                headers.append(line)
        body = await reader.readexactly(length) if length else b""
        peer = (writer.get_extra_info("peername") or ("unknown",))[0].encode()
        headers += [b"X-Forwarded-For: " + forwarded + peer, b"X-Forwarded-Proto: http", b"Connection: close"]
        request = b"\r\n".join([lines[0], *headers]) + b"\r\n\r\n" + body
        self.stats["requests"] += 1
        path = lines[0].split(b" ")[1] if b" " in lines[0] else b""
        slot = await self.acquire(bulk=any(path.startswith(prefix) for prefix in self.bulk_paths))
        try:
            await self._forward(method, request, writer, slot)
        finally:
            self.release(slot)

    async def _forward(self, method, request, writer, first: int | None = None) -> None:
        for attempt, i in enumerate(self.order(first)):
            if attempt:
                self.stats["retried"] += 1
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.backends[i]), 1)
            except (OSError, asyncio.TimeoutError):
                self.mark_down(i)
                continue
            try:
                up_writer.write(request)
                await up_writer.drain()
                first = await asyncio.wait_for(up_reader.read(65536), 120)
            except (OSError, asyncio.TimeoutError):
                first = b""
            if not first:
                up_writer.close()
                self.mark_down(i)
                if method in IDEMPOTENT:
                    continue  # nothing reached the client: the other server answers instead
                break
            self.stats["per_backend"][i] += 1
            try:
                writer.write(first)
                while chunk := await asyncio.wait_for(up_reader.read(262144), 120):
                    writer.write(chunk)
                    await writer.drain()
                await writer.drain()
            finally:
                up_writer.close()
            return
        self.stats["bad_gateway"] += 1
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()


async def serve(args) -> None:
    backends = [(b.rsplit(":", 1)[0], int(b.rsplit(":", 1)[1])) for b in args.backend]
    balancer = Balancer(backends, args.maxconn, tuple(p.encode() for p in args.bulk_path))
    server = await asyncio.start_server(balancer.handle, "127.0.0.1", args.listen, backlog=1024)
    health = [asyncio.create_task(balancer.health(i)) for i in range(len(backends))]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for task in health:
        task.cancel()
    server.close()
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(balancer.stats, f)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="host:port, repeated")
    parser.add_argument("--stats")
    parser.add_argument("--maxconn", type=int, default=0, help="requests at a time per server that is up (0: no limit)")
    parser.add_argument("--bulk-path", action="append", default=[],
                        help="a path prefix whose requests wait behind all others for a slot (with --maxconn)")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
