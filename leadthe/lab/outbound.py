"""The only way out to a company's model. (Issue 18, connection part: the SSRF-safe transport.)

``client(conn)`` gives an httpx client for one call: no proxies from the environment, no redirects, the
connection's timeouts, and only the base URL's host; in production only https, and the host's addresses
are resolved and refused when private, loopback, link-local, reserved or a cloud metadata address.
``check_base_url(url, allow_private)`` says why an admin's URL is refused (or None).

The check holds when the connection is made too, not only when the admin saves the URL: the client's
network backend resolves the host itself, checks every address it got and connects to a checked address
(a DNS answer that changed to a private address since, "DNS rebinding", is refused). A refusal raises
``RefusedAddress`` (an ``httpx.ConnectError``), which the provider turns into its ``refused_address`` error.

Development and tests (``LEADTHE_LAB_ALLOW_PRIVATE_URLS``, ``Connection.allow_private``): plain http to a
loopback address, and loopback and private addresses (a self-hosted model on the local network), are allowed;
link-local (the cloud metadata address), multicast and unspecified addresses never are.
"""
from __future__ import annotations

import ipaddress
import socket
import typing
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import httpcore
import httpx
from flask_babel import gettext as _, lazy_gettext as _l

IPAddress = typing.Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# never reached, not even in development: link-local (169.254.169.254 and fd00:ec2::254 are the cloud metadata
# services); refused in production besides what ``ipaddress`` calls private or non-global: carrier-grade NAT,
# IETF protocol assignments, benchmarking
_LINK_LOCAL = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128")]
_INTERNAL = [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15")]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SCHEMES = ("https", "http")


class RefusedAddress(httpx.ConnectError):
    """The call would go somewhere it may not: another host than the base URL's, plain http outside
    development, or an address that is private, loopback, link-local, reserved or a metadata address."""


def _embedded_v4(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address (those reach IPv4 hosts)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def _in(ip, networks) -> bool:
    return any(ip in net for net in networks if net.version == ip.version)


# (reason, test) in order; the first that holds refuses the address. ``allow_private`` skips "loopback" and
# "private" but never the ones before them.
_NEVER = (
    ("tunnelled", lambda ip: isinstance(ip, ipaddress.IPv6Address) and (ip.teredo is not None or ip in _NAT64_LOCAL)),
    ("unspecified", lambda ip: ip.is_unspecified),
    ("multicast", lambda ip: ip.is_multicast),
    ("link-local", lambda ip: ip.is_link_local or _in(ip, _LINK_LOCAL)),
)
_NOT_IN_PRODUCTION = (
    ("loopback", lambda ip: ip.is_loopback),
    ("private", lambda ip: ip.is_private or _in(ip, _INTERNAL)),
)
_NOT_PUBLIC = ("reserved", lambda ip: ip.is_reserved or not ip.is_global)


def address_problem(ip: IPAddress | str, allow_private: bool) -> str | None:
    """None when a call may connect to ``ip``; else a short reason (for logs and messages)."""
    ip = _embedded_v4(ipaddress.ip_address(ip) if isinstance(ip, str) else ip)
    for reason, applies in _NEVER:
        if applies(ip):
            return reason
    if allow_private and (ip.is_loopback or ip.is_private):
        return None
    for reason, applies in (*_NOT_IN_PRODUCTION, _NOT_PUBLIC):
        if applies(ip):
            return reason
    return None


_RESOLVER = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lab-dns")
RESOLVE_TIMEOUT = 3.0


def _lookup(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _resolve(host: str, port: int, timeout: float | None = None) -> list[str]:
    """Every address ``host`` resolves to (IP literals included); ``socket.gaierror`` when it does not, also
    when the look-up takes longer than ``timeout`` seconds (the system resolver has no timeout of its own)."""
    future = _RESOLVER.submit(_lookup, host, port)
    try:
        return future.result(timeout=timeout or RESOLVE_TIMEOUT)
    except FutureTimeout:
        raise socket.gaierror(socket.EAI_AGAIN, f"looking up {host} took too long") from None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


_INVALID = _l("This is not a valid URL. Write it as https://host/path, e.g. https://api.openai.com/v1.")


def _parse(url: str):
    """(message, parts) for the URL's form: empty, too long, not a URL."""
    if not url:
        return _("Enter the base URL of your model's API, e.g. https://api.openai.com/v1."), None
    if len(url) > 500:
        return _("The base URL is too long (at most 500 characters)."), None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return str(_INVALID), None
    if port == 0 or any(ch.isspace() for ch in url):
        return str(_INVALID), None
    return None, parts


def _static_problem(url: str, allow_private: bool) -> tuple[str | None, object]:
    """What is wrong with the URL itself (before any DNS look-up): (message, parts)."""
    url = (url or "").strip()
    problem, parts = _parse(url)
    if problem:
        return problem, None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.netloc:
        return _("The base URL must start with https://, e.g. https://api.openai.com/v1."), None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return _("Do not put a user name or password in the URL: enter the API key in its own field."), None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return _("The base URL cannot have a query (?…) or fragment (#…): give the address up to the API's version, e.g. https://api.openai.com/v1."), None
    if not parts.hostname:
        return str(_INVALID), None
    if scheme == "http" and not allow_private:
        return _("Only https addresses are allowed: the key and your learners' prompts must be encrypted on the way."), None
    return None, parts


def check_base_url(url: str, allow_private: bool) -> str | None:
    """None if ``url`` may be used, else the reason (shown beside the field).

    The host is resolved now; every address it resolves to must be public (see ``address_problem``). Plain
    http only with ``allow_private`` and only to a loopback address."""
    problem, parts = _static_problem(url, allow_private)
    if problem:
        return problem
    scheme, host = parts.scheme.lower(), parts.hostname
    try:
        addresses = _resolve(host, parts.port or _default_port(scheme))
    except (socket.gaierror, UnicodeError, OSError):
        return _("We could not find the host “%(host)s”. Check the spelling of the address.", host=host)
    if not addresses:
        return _("We could not find the host “%(host)s”. Check the spelling of the address.", host=host)
    for address in addresses:
        reason = address_problem(address, allow_private)
        if reason == "link-local":
            return _("“%(host)s” resolves to a link-local or cloud metadata address (%(ip)s), which is never allowed.",
                     host=host, ip=address)
        if reason:
            return _("“%(host)s” resolves to an internal address (%(ip)s). Only public addresses are allowed.",
                     host=host, ip=address)
        if scheme == "http" and not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            return _("Plain http is allowed only to this machine (loopback) in development. Use https.")
    return None


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend that resolves the host itself, refuses it when any address it resolves to
    is not allowed, and connects to a checked address (never resolving the name again)."""

    def __init__(self, allow_private: bool, http_loopback_only: bool):
        self.allow_private = allow_private
        self.http_loopback_only = http_loopback_only

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable | None = None) -> httpcore.NetworkStream:
        try:
            addresses = _resolve(host, port, timeout)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        for address in addresses:
            reason = address_problem(address, self.allow_private)
            if reason is None and self.http_loopback_only and not ipaddress.ip_address(address.split("%")[0]).is_loopback:
                reason = "http to a non-loopback address"
            if reason:
                raise RefusedAddress(f"{host} resolves to {address}: {reason}")
        last: Exception | None = None
        for address in addresses:  # connect to the checked address itself, not to the name
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never a unix socket
        raise RefusedAddress("unix sockets are not allowed")


_SSL_CONTEXT = None


def _ssl_context():
    """One verifying SSL context for every client (building it reads the CA bundle; it is safe to share)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context(verify=True, trust_env=False)
    return _SSL_CONTEXT


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport (as ``httpx.HTTPTransport`` builds it without a proxy) with ``GuardedBackend`` as its
    network backend, and only one origin (scheme, host, port) allowed."""

    def __init__(self, origin: tuple[str, bytes, int], allow_private: bool):
        # not super().__init__(): it would build a pool (and an SSL context) only to be replaced here
        self.origin = origin
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), max_connections=4, max_keepalive_connections=2, keepalive_expiry=5.0,
            http1=True, http2=False, retries=0,
            network_backend=GuardedBackend(allow_private, http_loopback_only=origin[0] == "http"))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if _origin(url) != self.origin:
            raise RefusedAddress(f"only {self.origin[0]}://{self.origin[1].decode()}:{self.origin[2]} may be reached, "
                                 f"not {url.host}", request=request)
        try:
            return super().handle_request(request)
        except RefusedAddress as exc:
            raise RefusedAddress(str(exc), request=request) from exc


def _origin(url: httpx.URL) -> tuple[str, bytes, int]:
    """(scheme, host as sent, IDNA-encoded and lower case, port)."""
    return url.scheme, url.raw_host.lower(), url.port or _default_port(url.scheme)


def client(conn) -> httpx.Client:
    """An httpx client for calls to ``conn.base_url`` (use it as a context manager). Raises ``RefusedAddress``
    when the URL itself is not allowed (scheme, user name in it); addresses are checked at connect time."""
    problem, _parts = _static_problem(conn.base_url, conn.allow_private)
    if problem:
        raise RefusedAddress(str(problem))
    base_url = httpx.URL(conn.base_url.strip())
    timeout = httpx.Timeout(connect=conn.connect_timeout, read=conn.read_timeout, write=conn.read_timeout,
                            pool=conn.connect_timeout)
    return httpx.Client(transport=GuardedTransport(_origin(base_url), conn.allow_private), timeout=timeout,
                        trust_env=False, follow_redirects=False, base_url=base_url)


def guarded_client(url: str, allow_private: bool, timeout: float) -> httpx.Client:
    """An httpx client that may reach ``url``'s origin only, with every address checked at connect time (as
    ``client``), for callers that check the URL's form themselves (single sign-on: leadthe.sso.http)."""
    target = httpx.URL(url.strip())
    return httpx.Client(transport=GuardedTransport(_origin(target), allow_private), timeout=httpx.Timeout(timeout),
                        trust_env=False, follow_redirects=False)
