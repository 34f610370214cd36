"""The outbound transport to a company's model (leadthe.lab.outbound): which base URLs an admin may save, and
that the client keeps to the rules when it connects (DNS rebinding, other hosts, proxies from the environment).

Host names are resolved through ``socket.getaddrinfo``; tests replace it to say what a name resolves to."""
from __future__ import annotations

import socket

import httpx
import pytest

from leadthe.lab import outbound
from leadthe.lab.provider import Connection
from tests.fake_openai import start_fake_model

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def fake_model():
    server = start_fake_model(api_key=None)
    yield server
    server.stop()


@pytest.fixture
def dns(monkeypatch):
    """``dns["name"] = ["1.2.3.4", ...]`` makes ``name`` resolve to those addresses (others resolve for real)."""
    table: dict[str, list[str]] = {}
    asked: list[str] = []

    def fake(host, port, *args, **kwargs):
        asked.append(host)
        if host in table:
            if not table[host]:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (ip, port) if ":" not in ip else (ip, port, 0, 0)) for ip in table[host]]
        if host.endswith((".invalid", ".example")):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    table["asked"] = asked  # type: ignore[assignment]
    return table


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


PRIVATE_URLS = [
    "https://127.0.0.1/v1", "https://10.1.2.3/v1", "https://192.168.0.10/v1", "https://172.16.5.4/v1",
    "https://169.254.169.254/latest", "https://[::1]/v1", "https://[fd00:ec2::254]/v1", "https://[fe80::1]/v1",
    "https://100.64.0.7/v1", "https://0.0.0.0/v1", "https://[::ffff:10.0.0.1]/v1", "https://[::ffff:169.254.169.254]/",
    "https://224.0.0.1/v1", "https://2130706433/v1", "https://0x7f.1/v1", "https://[64:ff9b::a9fe:a9fe]/v1",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_internal_addresses_are_refused_in_production(ctx, url):
    problem = outbound.check_base_url(url, allow_private=False)
    assert problem and ("internal address" in problem or "link-local" in problem), (url, problem)


def test_a_name_that_resolves_to_an_internal_address_is_refused(ctx, dns):
    dns["llm.corp.example"] = ["8.8.8.8", "10.0.0.5"]  # one internal address among public ones is enough
    problem = outbound.check_base_url("https://llm.corp.example/v1", allow_private=False)
    assert "10.0.0.5" in problem and "internal address" in problem
    dns["metadata.example"] = ["169.254.169.254"]
    assert "metadata" in outbound.check_base_url("https://metadata.example/", allow_private=False)


def test_a_public_https_host_is_accepted(ctx, dns):
    dns["api.model.example"] = ["20.50.2.1", "2603:1020::1"]
    assert outbound.check_base_url("https://api.model.example/openai/v1", allow_private=False) is None
    assert outbound.check_base_url("https://api.model.example:8443/v1", allow_private=False) is None


@pytest.mark.parametrize("url, words", [
    ("http://api.model.example/v1", "Only https"),
    ("ftp://api.model.example/v1", "must start with https://"),
    ("file:///etc/passwd", "must start with https://"),
    ("gopher://api.model.example/", "must start with https://"),
    ("https://user:secret@api.model.example/v1", "user name or password"),
    ("https://api.model.example@10.0.0.1/v1", "user name or password"),
    ("https://api.model.example/v1?x=1", "query"),
    ("https://api.model.example:99999/v1", "not a valid URL"),
    ("api.model.example/v1", "must start with https://"),
    ("", "Enter the base URL"),
])
def test_odd_urls_are_refused_with_a_clear_reason(ctx, dns, url, words):
    dns["api.model.example"] = ["20.50.2.1"]
    assert words in (outbound.check_base_url(url, allow_private=False) or "")


def test_a_host_that_does_not_resolve_says_so(ctx, dns):
    problem = outbound.check_base_url("https://no-such-model.invalid/v1", allow_private=False)
    assert "could not find the host" in problem and "no-such-model.invalid" in problem


def test_development_allows_http_to_loopback_only_and_never_metadata(ctx, dns):
    assert outbound.check_base_url("http://127.0.0.1:11434/v1", allow_private=True) is None
    assert outbound.check_base_url("https://10.0.0.8/v1", allow_private=True) is None  # a model on the local network
    dns["api.model.example"] = ["20.50.2.1"]
    assert "loopback" in outbound.check_base_url("http://api.model.example/v1", allow_private=True)
    assert "link-local" in outbound.check_base_url("https://169.254.169.254/", allow_private=True)
    assert "link-local" in outbound.check_base_url("https://[fd00:ec2::254]/", allow_private=True)


def conn(url, allow_private=False, **kw):
    return Connection(base_url=url, model="ok", api_key=None, connect_timeout=2, read_timeout=5, allow_private=allow_private, **kw)


def test_the_client_reaches_a_loopback_model_in_development(fake_model):
    with outbound.client(conn(fake_model.base_url, allow_private=True)) as http:
        response = http.get(fake_model.base_url + "/models")
    assert response.status_code == 200 and response.json()["object"] == "list"


def test_the_client_connects_to_the_checked_address_not_the_name_again(fake_model, dns):
    port = fake_model.server_address[1]
    dns["model.example"] = ["127.0.0.1"]
    with outbound.client(conn(f"http://Model.Example:{port}/v1", allow_private=True)) as http:
        assert http.get(f"http://model.example:{port}/v1/models").status_code == 200
        assert http.get("models").status_code == 200  # relative to the base URL
    assert dns["asked"].count("model.example") == 1  # resolved once, by the guard; the socket used the address


def test_the_client_refuses_at_connect_time_when_dns_changed_to_a_private_address(fake_model, dns, ctx):
    """DNS rebinding: the name was public when the admin saved it, and resolves to an internal address now."""
    dns["api.model.example"] = ["20.50.2.1"]
    assert outbound.check_base_url("https://api.model.example/v1", allow_private=False) is None
    for internal in ("127.0.0.1", "10.0.0.9", "169.254.169.254", "::1", "::ffff:127.0.0.1"):
        dns["api.model.example"] = [internal]
        with outbound.client(conn("https://api.model.example/v1")) as http:
            with pytest.raises(outbound.RefusedAddress) as refused:
                http.post("https://api.model.example/v1/chat/completions", json={"model": "ok"})
        assert internal in str(refused.value)
    assert fake_model.requests == []


def test_the_client_refuses_private_addresses_in_production_even_when_reachable(fake_model):
    port = fake_model.server_address[1]
    with outbound.client(conn(f"https://127.0.0.1:{port}/v1")) as http:
        with pytest.raises(outbound.RefusedAddress):
            http.get(f"https://127.0.0.1:{port}/v1/models")
    with pytest.raises(outbound.RefusedAddress):  # plain http is refused before anything is sent
        outbound.client(conn(fake_model.base_url))
    assert fake_model.requests == []


def test_only_the_base_urls_host_may_be_reached(fake_model, dns):
    dns["other.example"] = ["127.0.0.1"]
    port = fake_model.server_address[1]
    with outbound.client(conn(fake_model.base_url, allow_private=True)) as http:
        for url in (f"http://other.example:{port}/v1/models", f"http://127.0.0.1:{port + 1}/v1/models",
                    f"https://127.0.0.1:{port}/v1/models", "http://169.254.169.254/latest/meta-data"):
            with pytest.raises(outbound.RefusedAddress):
                http.get(url)
    assert fake_model.requests == []


def test_no_proxy_from_the_environment_no_redirects_and_the_connections_timeouts(fake_model, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    http = outbound.client(conn(fake_model.base_url, allow_private=True))
    with http:
        assert http.get(fake_model.base_url + "/models").status_code == 200  # the proxy (nothing listens) is ignored
    assert http.follow_redirects is False
    assert http.timeout == httpx.Timeout(connect=2, read=5, write=5, pool=2)


def test_a_refusal_is_a_connect_error_the_provider_can_name():
    assert issubclass(outbound.RefusedAddress, httpx.ConnectError)


def test_a_slow_name_lookup_gives_up_with_a_clear_message(ctx, monkeypatch):
    import time

    def slow(host, port, *args, **kwargs):
        time.sleep(5)
        return REAL_GETADDRINFO("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    monkeypatch.setattr(outbound, "RESOLVE_TIMEOUT", 0.1)
    started = time.monotonic()
    assert "could not find the host" in outbound.check_base_url("https://slow-dns.example/v1", allow_private=False)
    assert time.monotonic() - started < 4  # it gave up, not waited for the 5 s look-up
