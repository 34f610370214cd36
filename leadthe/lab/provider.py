"""An OpenAI-compatible chat-completions client (``POST {base_url}/chat/completions``), over httpx, through
``leadthe.lab.outbound`` (configured host only, no private addresses in production, timeouts).

Interface used by the runner and the admin page (``stream_chat``, ``test_connection``, ``ProviderError``);
the implementation is issue 18's provider part.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Callable

import httpx
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe.lab import outbound

log = logging.getLogger(__name__)

# error codes stored on LabRun.error_code, with what the learner (or the admin) is told
ERRORS = {
    "auth": _l("The company's AI model refused the API key (401). Ask your company's admin to check the key."),
    "forbidden": _l("The company's AI model refused the request (403). Ask your company's admin to check the model's permissions."),
    "not_found": _l("The company's AI model was not found (404). Ask your company's admin to check the base URL and model name."),
    "rate_limited": _l("The company's AI model is busy or its quota is used up (429). Try again in a minute."),
    "server": _l("The company's AI model had a problem (5xx). Try again in a minute."),
    "timeout": _l("The company's AI model took too long to answer. Your prompt is kept: try again."),
    "network": _l("The company's AI model could not be reached. Try again in a minute."),
    "malformed": _l("The company's AI model sent an answer we could not read."),
    "empty": _l("The company's AI model sent an empty answer. Try again, or rephrase your prompt."),
    "bad_request": _l("The company's AI model rejected the request (it may be too long for the model). Shorten your prompt, or ask your company's admin to check the model's settings."),
    "too_long": _l("The answer reached the length limit and was cut off there."),
    "refused_address": _l("The model's address is not allowed (only public https addresses)."),
    "paused": _l("Calls to the company's AI model are paused for a minute after repeated failures. Try again shortly."),
    "stopped": _l("The answer stopped arriving (the generation was interrupted). Your prompt is kept: send it again."),
    "cancelled": _l("You cancelled this answer."),
    "not_connected": _l("Your company has not connected an AI model yet."),
}


class ProviderError(Exception):
    """A call failed; ``code`` is a key of ERRORS, ``detail`` is for logs and the admin's test result."""

    def __init__(self, code: str, detail: str = "", partial: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail
        self.partial = partial  # the answer's text that arrived before the failure (already given to on_delta)


class Cancelled(Exception):
    """``on_delta`` asked to stop (the learner pressed cancel)."""


@dataclass(frozen=True)
class Connection:
    base_url: str  # e.g. https://api.openai.com/v1 (``/chat/completions`` is appended)
    model: str
    api_key: str | None
    connect_timeout: float = 5.0
    read_timeout: float = 20.0  # the longest wait for the next bytes of a stream
    total_timeout: float = 120.0
    allow_private: bool = False  # development and tests: loopback and private addresses allowed


@dataclass
class ChatResult:
    text: str
    tokens_in: int
    tokens_out: int
    estimated: bool  # the provider reported no usage: estimated from the text (about 4 characters a token)
    truncated: bool = False  # the answer reached max_chars and was cut there
    model: str = ""  # the model the provider says answered (the connection's model when it does not say)



# failures that say the provider (or the way to it) is in trouble: they count towards the circuit breaker that
# pauses a company's calls; the others (a wrong key, model or URL, a prompt the model rejects) are settings
BREAKER_CODES = frozenset({"server", "timeout", "network", "rate_limited", "malformed", "stopped"})
CHARS_PER_TOKEN = 4  # the estimate when a provider reports no usage
MAX_BODY_BYTES = 4_000_000  # a non-streamed answer larger than this is not read
_STATUS = {401: "auth", 403: "forbidden", 404: "not_found", 408: "timeout", 429: "rate_limited"}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def _status_code(status: int) -> str:
    if status in _STATUS:
        return _STATUS[status]
    return "server" if status >= 500 else "bad_request"


def _provider_message(raw: bytes) -> str:
    """The provider's own error message (for logs and the admin's test result), short."""
    try:
        body = json.loads(raw)
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else (error or body.get("message"))
        return str(message or "")[:200]
    except (ValueError, AttributeError):
        return raw[:200].decode("utf-8", "replace")


class _Reader:
    """One answer as it arrives: the pieces so far, the length limit, the usage the provider reports."""

    def __init__(self, on_delta, max_chars: int):
        self.on_delta, self.max_chars = on_delta, max_chars
        self.parts: list[str] = []
        self.length = 0
        self.truncated = False
        self.usage: dict | None = None
        self.model = ""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> bool:
        """Keep ``piece`` (cut at the limit); False when no more should be read."""
        if not piece:
            return True
        room = self.max_chars - self.length
        if len(piece) > room:
            piece, self.truncated = piece[:room], True
        if piece:
            self.parts.append(piece)
            self.length += len(piece)
            if self.on_delta is not None and self.on_delta(piece) is False:
                raise Cancelled()
        return not self.truncated

    def note(self, body: dict) -> None:
        if isinstance(body.get("usage"), dict):
            self.usage = body["usage"]
        if isinstance(body.get("model"), str) and body["model"]:
            self.model = body["model"]
        if body.get("error"):
            error = body["error"]
            message = str(error.get("message") if isinstance(error, dict) else error)[:200]
            status = error.get("code") if isinstance(error, dict) else None
            code = _status_code(status) if isinstance(status, int) and status >= 400 else "server"
            raise ProviderError(code, f"error in the answer: {message}", partial=self.text)


def _choices(body: dict) -> list:
    choices = body.get("choices")
    if choices is None:
        return []
    if not isinstance(choices, list):
        raise ProviderError("malformed", "choices is not a list")
    return [c for c in choices if isinstance(c, dict)]


def _read_json(raw: bytes, reader: _Reader) -> None:
    """A whole answer in one JSON body (``stream`` false, or a provider that ignores it)."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise ProviderError("malformed", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderError("malformed", "the body is not a JSON object")
    reader.note(body)
    for choice in _choices(body)[:1]:
        message = choice.get("message") or choice.get("delta") or {}
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            reader.add(content)
        elif content is not None:
            raise ProviderError("malformed", "the message content is not text")


def _check_deadline(deadline: float, reader: _Reader | None = None) -> None:
    """``timeout`` once the answer's total time limit has passed (with what ``reader`` holds so far)."""
    if time.monotonic() > deadline:
        raise ProviderError("timeout", "the total time limit was reached", partial=reader.text if reader else "")


def _skipped_line(line: str) -> bool:
    """A blank line, a comment or a field other than ``data`` (nothing to read in it)."""
    return not line or line.startswith(":") or line.startswith(("event:", "id:", "retry:"))


def _read_unframed(line: str, lines, reader: _Reader) -> None:
    """A line that is not a server-sent event: when nothing came yet and it opens a JSON object, the answer is
    a JSON body sent without a JSON content type (read whole, with the rest of the lines); else malformed."""
    if not reader.parts and line.startswith("{"):
        _read_json("\n".join([line, *lines]).encode(), reader)
        return
    raise ProviderError("malformed", f"not a server-sent event: {line[:80]!r}", partial=reader.text)


def _event_chunk(payload: str, reader: _Reader) -> dict:
    """One event's data as a JSON object (malformed when it is not one)."""
    try:
        chunk = json.loads(payload)
    except ValueError:
        raise ProviderError("malformed", f"an event that is not JSON: {payload[:80]!r}", partial=reader.text) from None
    if not isinstance(chunk, dict):
        raise ProviderError("malformed", "an event that is not a JSON object", partial=reader.text)
    return chunk


def _delta_text(choice: dict, reader: _Reader) -> str | None:
    """The piece of text a streamed choice carries (None when it has none)."""
    delta = choice.get("delta") or choice.get("message") or {}
    piece = delta.get("content") if isinstance(delta, dict) else None
    if piece is not None and not isinstance(piece, str):
        raise ProviderError("malformed", "a piece that is not text", partial=reader.text)
    return piece


def _read_chunk(chunk: dict, reader: _Reader) -> tuple[bool, bool]:
    """Give one event's pieces to ``reader``: (keep reading, a choice said it finished). Reading stops at
    the length limit."""
    reader.note(chunk)
    finished = False
    for choice in _choices(chunk):
        piece = _delta_text(choice, reader)
        if piece and not reader.add(piece):
            return False, finished
        if choice.get("finish_reason"):
            finished = True
    return True, finished


def _read_sse(response: httpx.Response, reader: _Reader, deadline: float) -> bool:
    """Server-sent events: ``data: {chunk}`` lines until ``data: [DONE]``. True when the answer came to its
    end ([DONE] or a finish_reason), False when the stream just stopped."""
    finished = False
    lines = response.iter_lines()
    for line in lines:
        _check_deadline(deadline, reader)
        line = line.strip()
        if _skipped_line(line):
            continue
        if not line.startswith("data:"):
            _read_unframed(line, lines, reader)
            return True
        payload = line[5:].strip()
        if payload == "[DONE]":
            return True
        more, ended = _read_chunk(_event_chunk(payload, reader), reader)
        if not more:
            return True  # the length limit: stop reading
        if ended:
            finished = True
    return finished


def _usage(reader: _Reader, messages: list[dict]) -> tuple[int, int, bool]:
    usage = reader.usage or {}
    tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(tokens_in, int) and isinstance(tokens_out, int) and not reader.truncated:
        return tokens_in, tokens_out, False
    sent = sum(len(str(m.get("content") or "")) for m in messages)
    return max(1, math.ceil(sent / CHARS_PER_TOKEN)), estimate_tokens(reader.text), True


def _request_body(conn: Connection, messages: list[dict], stream: bool, max_tokens: int | None) -> dict:
    body: dict = {"model": conn.model, "messages": messages, "stream": bool(stream)}
    if stream:
        body["stream_options"] = {"include_usage": True}
    if max_tokens:
        body["max_tokens"] = max_tokens
    return body


def _request_headers(conn: Connection, stream: bool) -> dict:
    headers = {"Accept": "text/event-stream" if stream else "application/json"}
    if conn.api_key:
        headers["Authorization"] = f"Bearer {conn.api_key}"
    return headers


def _error_body(response: httpx.Response) -> bytes:
    """The start of an error response's body (enough for the provider's message)."""
    raw = b""
    for data in response.iter_bytes():
        raw += data
        if len(raw) > 20_000:
            break
    return raw


def _check_status(response: httpx.Response) -> None:
    """An HTTP error becomes its ProviderError (with the provider's message); any other status than 200 is
    malformed."""
    if response.status_code >= 400:
        raise ProviderError(_status_code(response.status_code),
                            f"HTTP {response.status_code}: {_provider_message(_error_body(response))}")
    if response.status_code != 200:
        raise ProviderError("malformed", f"HTTP {response.status_code}")


def _is_json_body(response: httpx.Response, stream: bool) -> bool:
    """The answer comes as one JSON body rather than as server-sent events."""
    content_type = response.headers.get("content-type", "").lower()
    return "event-stream" not in content_type and ("json" in content_type or not stream)


def _whole_body(response: httpx.Response, deadline: float) -> bytes:
    """A non-streamed answer's body, within MAX_BODY_BYTES and the total time limit."""
    raw = b""
    for data in response.iter_bytes():
        raw += data
        if len(raw) > MAX_BODY_BYTES:
            raise ProviderError("malformed", "the answer is too large to read")
        _check_deadline(deadline)
    return raw


def _read_response(response: httpx.Response, reader: _Reader, deadline: float, stream: bool) -> bool:
    """Read the answer into ``reader``; True when it came to its end (see ``_read_sse``)."""
    _check_status(response)
    if _is_json_body(response, stream):
        _read_json(_whole_body(response, deadline), reader)
        return True
    return _read_sse(response, reader, deadline)


def _transport_failure(exc: Exception, reader: _Reader) -> ProviderError:
    """The ProviderError for an httpx failure (a timeout, a dropped connection, an unreachable or refused
    address), with what arrived before it."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("timeout", detail, partial=reader.text)
    if isinstance(exc, httpx.RemoteProtocolError):  # the connection dropped in the middle of the answer
        return ProviderError("stopped" if reader.parts else "network", detail, partial=reader.text)
    code = "refused_address" if isinstance(exc, outbound.RefusedAddress) else "network"  # (a ConnectError)
    return ProviderError(code, detail, partial=reader.text)


def _result(conn: Connection, messages: list[dict], reader: _Reader, complete: bool) -> ChatResult:
    """The answer read, or ``empty`` (no text) or ``stopped`` (the stream ended before its end)."""
    if not reader.parts:
        raise ProviderError("empty", "no content in the answer")
    if not complete and not reader.truncated:
        raise ProviderError("stopped", "the stream ended before [DONE]", partial=reader.text)
    tokens_in, tokens_out, estimated = _usage(reader, messages)
    return ChatResult(text=reader.text, tokens_in=tokens_in, tokens_out=tokens_out, estimated=estimated,
                      truncated=reader.truncated, model=reader.model or conn.model)


def stream_chat(conn: Connection, messages: list[dict], *, on_delta: Callable[[str], bool | None] | None = None,
                max_chars: int = 12000, stream: bool = True, max_tokens: int | None = None) -> ChatResult:
    """Send ``messages`` and return the answer. With ``stream``, ``on_delta(text)`` is called with each piece
    as it arrives (a provider that ignores ``stream`` and answers in one JSON body is accepted too);
    ``on_delta`` returning False stops the call (``Cancelled``). Raises ``ProviderError``: its ``partial``
    holds what arrived before a failure. An answer over ``max_chars`` is cut there (``truncated``).

    Timeouts: ``conn.connect_timeout`` to connect, ``conn.read_timeout`` for each wait for the next bytes,
    and ``conn.total_timeout`` for the whole answer."""
    body = _request_body(conn, messages, stream, max_tokens)
    headers = _request_headers(conn, stream)
    url = conn.base_url.rstrip("/") + "/chat/completions"
    reader = _Reader(on_delta, max_chars)
    deadline = time.monotonic() + conn.total_timeout
    try:
        with outbound.client(conn) as http, http.stream("POST", url, json=body, headers=headers) as response:
            complete = _read_response(response, reader, deadline, stream)
    except (ProviderError, Cancelled):
        raise
    except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise _transport_failure(exc, reader) from None
    return _result(conn, messages, reader, complete)


# what the admin is told after "test connection", per failure
TEST_MESSAGES = {
    "auth": _l("The model refused the API key (401). Check the key."),
    "forbidden": _l("The model refused the request (403). Check that the key may use this model."),
    "not_found": _l("Nothing answered at this address with this model (404). Check the base URL (it usually ends in /v1) and the model name."),
    "rate_limited": _l("The model is busy or the account's quota is used up (429)."),
    "server": _l("The model's server had a problem (5xx). Try again later."),
    "timeout": _l("The model did not answer in time. Check the base URL, or try again later."),
    "network": _l("The model could not be reached at this address. Check the base URL."),
    "malformed": _l("Something answered, but not like an OpenAI-compatible API. Check the base URL."),
    "empty": _l("The model answered with no text. Check the model name."),
    "bad_request": _l("The model rejected the request (400). Check the model name."),
    "refused_address": ERRORS["refused_address"],
}


def test_connection(conn: Connection) -> tuple[bool, str]:
    """A one-word chat completion with a short timeout: (ok, message for the admin)."""
    quick = replace(conn, connect_timeout=min(conn.connect_timeout, 5.0), read_timeout=min(conn.read_timeout, 15.0),
                    total_timeout=min(conn.total_timeout, 20.0))
    started = time.monotonic()
    try:
        result = stream_chat(quick, [{"role": "user", "content": "Reply with OK"}], stream=False, max_chars=200)
    except ProviderError as exc:
        log.info("lab test connection failed: %s", exc)
        return False, str(TEST_MESSAGES.get(exc.code) or ERRORS.get(exc.code) or exc.code)
    return True, _("Connected: %(model)s answered in %(seconds).1f s.", model=result.model or conn.model,
                   seconds=time.monotonic() - started)


test_connection.__test__ = False  # not a test for pytest when imported into a test module
