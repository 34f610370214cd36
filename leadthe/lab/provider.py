"""An OpenAI-compatible chat-completions client (``POST {base_url}/chat/completions``), over httpx, through
``leadthe.lab.outbound`` (configured host only, no private addresses in production, timeouts).

Interface used by the runner and the admin page (``stream_chat``, ``test_connection``, ``ProviderError``);
the implementation is issue 18's provider part.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l

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
    "too_long": _l("The answer reached the length limit and was cut off there."),
    "refused_address": _l("The model's address is not allowed (only public https addresses)."),
    "paused": _l("Calls to the company's AI model are paused for a minute after repeated failures. Try again shortly."),
    "stopped": _l("The answer stopped arriving (the generation was interrupted). Your prompt is kept: send it again."),
    "cancelled": _l("You cancelled this answer."),
    "not_connected": _l("Your company has not connected an AI model yet."),
}


class ProviderError(Exception):
    """A call failed; ``code`` is a key of ERRORS, ``detail`` is for logs and the admin's test result."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


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


def stream_chat(conn: Connection, messages: list[dict], *, on_delta: Callable[[str], bool | None] | None = None,
                max_chars: int = 12000, stream: bool = True, max_tokens: int | None = None) -> ChatResult:
    """Send ``messages`` and return the answer. With ``stream``, ``on_delta(text)`` is called with each piece
    as it arrives (a provider that ignores ``stream`` and answers in one JSON body is accepted too);
    ``on_delta`` returning False stops the call (``Cancelled``). Raises ``ProviderError``."""
    raise NotImplementedError


def test_connection(conn: Connection) -> tuple[bool, str]:
    """A one-word chat completion with a short timeout: (ok, message for the admin)."""
    raise NotImplementedError
