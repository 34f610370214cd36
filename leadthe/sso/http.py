"""The only way to an identity provider: OIDC discovery, its keys (JWKS) and token endpoint, SAML metadata.

Each call goes to the one URL it names (its origin only, no redirects followed), over https (plain http only
to this machine in development and tests), never to a private, link-local or metadata address in production
(checked when connecting, see leadthe.lab.outbound), with the timeout ``SSO_HTTP_TIMEOUT`` (5 s) and at most
``MAX_BYTES`` read. A web request that calls an identity provider waits at most that long.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
from flask import current_app
from flask_babel import gettext as _

from leadthe.lab.outbound import RefusedAddress, guarded_client

MAX_BYTES = 1_000_000


class IdpUnreachable(Exception):
    """The identity provider could not be reached or answered something unusable; ``str()`` says what, in
    words for an admin."""


def url_problem(url: str) -> str | None:
    """What is wrong with an identity-provider URL as typed (shown beside the field), or None."""
    url = (url or "").strip()
    if not url:
        return _("Enter the address.")
    if len(url) > 500:
        return _("The address is too long (at most 500 characters).")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        return _("This is not a valid address. Write it as https://host/path.")
    if any(ch.isspace() for ch in url) or not parts.hostname or parts.scheme.lower() not in ("https", "http"):
        return _("This is not a valid address. Write it as https://host/path.")
    if parts.username is not None or parts.password is not None:
        return _("Do not put a user name or password in the address.")
    if parts.scheme.lower() == "http" and not current_app.config["SSO_ALLOW_PRIVATE_URLS"]:
        return _("Only https addresses are allowed.")
    return None


def _client(url: str) -> httpx.Client:
    problem = url_problem(url)
    if problem:
        raise IdpUnreachable(problem)
    return guarded_client(url, current_app.config["SSO_ALLOW_PRIVATE_URLS"], current_app.config["SSO_HTTP_TIMEOUT"])


def _send(method: str, url: str, **kwargs) -> tuple[int, bytes, str]:
    """(status, body, content type) of one request; IdpUnreachable for anything but an answer."""
    try:
        with _client(url) as client, client.stream(method, url, **kwargs) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise IdpUnreachable(_("The answer from %(host)s is too large.", host=urlsplit(url).hostname))
            return response.status_code, body, response.headers.get("content-type", "")
    except RefusedAddress as exc:
        raise IdpUnreachable(_("%(host)s is not an address we may call: %(reason)s", host=urlsplit(url).hostname,
                               reason=str(exc))) from exc
    except httpx.TimeoutException as exc:
        raise IdpUnreachable(_("%(host)s did not answer in time.", host=urlsplit(url).hostname)) from exc
    except httpx.HTTPError as exc:
        raise IdpUnreachable(_("We could not connect to %(host)s.", host=urlsplit(url).hostname)) from exc


def get(url: str, **kwargs) -> tuple[int, bytes, str]:
    return _send("GET", url, **kwargs)


def post(url: str, **kwargs) -> tuple[int, bytes, str]:
    return _send("POST", url, **kwargs)


def get_json(url: str) -> dict:
    """A JSON object from ``url`` (discovery, JWKS); IdpUnreachable when it is not one."""
    status, body, _type = get(url, headers={"Accept": "application/json"})
    if status != 200:
        raise IdpUnreachable(_("%(host)s answered with status %(status)s.", host=urlsplit(url).hostname, status=status))
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise IdpUnreachable(_("%(host)s did not answer with JSON.", host=urlsplit(url).hostname)) from exc
    if not isinstance(data, dict):
        raise IdpUnreachable(_("%(host)s did not answer with a JSON object.", host=urlsplit(url).hostname))
    return data
