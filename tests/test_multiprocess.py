"""Several app processes against one PostgreSQL and one Redis: sessions and rate limits are shared.

Runs when LEADTHE_TEST_DATABASE_URL points at PostgreSQL and Redis answers on 127.0.0.1:6379 (as in CI).
"""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, ROOT, free_port

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


if os.environ.get("LEADTHE_REQUIRE_REDIS") == "1" and PG_URL and not redis_up():
    raise RuntimeError("CI requires Redis on 127.0.0.1:6379 for the multi-process tests")
pytestmark = pytest.mark.skipif(not PG_URL or not redis_up(), reason="needs PostgreSQL (LEADTHE_TEST_DATABASE_URL) and Redis")


class Browser:
    """A minimal cookie-keeping HTTP client that can talk to several servers (like one browser behind a load balancer)."""

    def __init__(self):
        self.cookies = {}

    def request(self, port, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "localhost"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                val = rest.split(";", 1)[0]
                if "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = val
        conn.close()
        return response.status, data, dict(response.getheaders())

    def csrf(self, port, path="/login"):
        _, html, _ = self.request(port, "GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"', html)
        return match.group(1) or match.group(2)


@pytest.fixture
def cluster(tmp_path):
    base = sa.engine.make_url(PG_URL)
    # through the maintenance database, not the suite's: this test runs in the SQLite shard, at the same time as
    # the PostgreSQL shard, whose test of dropped connections ends every other connection to the suite's database
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS leadthe_cluster_test")
        conn.exec_driver_sql("CREATE DATABASE leadthe_cluster_test")
    admin.dispose()
    url = base.set(database="leadthe_cluster_test").render_as_string(hide_password=False)
    env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_DATABASE_URL": url, "LEADTHE_SECRET_KEY": "cluster-secret-" + "k" * 30,
           "LEADTHE_RATELIMIT_STORAGE_URL": REDIS_URL, "LEADTHE_INLINE_WORKER": "0", "LEADTHE_BCRYPT_ROUNDS": "4",
           "LEADTHE_INSTANCE_PATH": str(tmp_path)}
    bin_dir = os.path.dirname(sys.executable)
    flask = [os.path.join(bin_dir, "flask"), "--app", "app"]
    subprocess.run(flask + ["db", "upgrade", "heads"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(flask + ["leadthe", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "app:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
        yield ports
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_a_session_works_on_every_server_and_logout_ends_it_everywhere(cluster):
    a, b = cluster
    browser = Browser()
    status, _, headers = browser.request(a, "POST", "/login", {"csrf_token": browser.csrf(a), "email": "learner@acme.example",
                                                                "password": "acme-demo-passphrase"})
    assert status == 303
    assert browser.request(b, "GET", "/dashboard")[0] == 200  # the other server knows the session
    token = browser.csrf(b, "/dashboard")
    stolen = dict(browser.cookies)
    assert browser.request(b, "POST", "/logout", {"csrf_token": token})[0] == 303
    thief = Browser()
    thief.cookies = stolen
    assert thief.request(a, "GET", "/dashboard")[0] == 302  # revoked on the server: no machine accepts it


def test_rate_limits_are_shared_between_servers(cluster):
    a, b = cluster
    browser = Browser()
    statuses = []
    for i in range(12):
        port = a if i % 2 else b
        status, _, _ = browser.request(port, "POST", "/login", {"csrf_token": browser.csrf(port), "email": "learner@acme.example",
                                                                  "password": "wrong-password-123"})
        statuses.append(status)
    # 10 failures per account per 15 minutes, counted across both servers
    assert statuses[:10] == [422] * 10 and statuses[10:] == [429, 429]
