"""The cluster run's mail server: an aiosmtpd sink on loopback that accepts every message and appends its
Message-ID (one a line) to a file, so the run can count duplicates and missing mails afterwards.

    python -m bench.cluster.smtp_sink --port 2525 --out received.txt

Runs until SIGTERM. No TLS, no authentication: loopback only.
"""
from __future__ import annotations

import argparse
import re
import signal
import threading

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M)


class Sink:
    def __init__(self, path: str):
        self.out = open(path, "ab", buffering=0)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = envelope.content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        found = MESSAGE_ID.search(headers)
        with self.lock:
            self.out.write((found.group(1) if found else b"<none>") + b"\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
