"""The OpenAI-compatible client against the fake model server on loopback: streamed and whole answers,
usage (reported or estimated), each failure's code, the length limit, cancel, timeouts."""
from __future__ import annotations

import math
import socket
import time

import pytest

from leadthe.lab.provider import Cancelled, Connection, ProviderError, stream_chat, test_connection
from tests.fake_openai import ANSWER, start_fake_model

KEY = "sk-test-key"
MESSAGES = [{"role": "user", "content": "Summarise this note for a customer in 5 bullet points."}]


@pytest.fixture(scope="module")
def fake():
    server = start_fake_model(api_key=KEY)
    server.stall_seconds = 30  # as the issue says: the client's read timeout ends the wait long before
    yield server
    server.stop()


def conn(fake, model="ok", **overrides) -> Connection:
    settings = {"base_url": fake.base_url, "model": model, "api_key": KEY, "connect_timeout": 2.0,
                "read_timeout": 1.0, "total_timeout": 10.0, "allow_private": True}
    settings.update(overrides)
    return Connection(**settings)


def test_a_streamed_answer_arrives_in_pieces_with_the_reported_usage(fake):
    pieces = []
    result = stream_chat(conn(fake), MESSAGES, on_delta=pieces.append)
    assert result.text == ANSWER
    assert len(pieces) > 5 and "".join(pieces) == ANSWER
    assert not result.estimated and result.tokens_out == math.ceil(len(ANSWER) // 4) and result.tokens_in > 0
    request = fake.requests[-1]
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["body"]["stream"] is True and request["body"]["stream_options"] == {"include_usage": True}
    assert request["body"]["messages"] == MESSAGES and request["body"]["model"] == "ok"


def test_a_whole_answer_without_streaming_and_a_provider_that_ignores_stream(fake):
    plain = stream_chat(conn(fake), MESSAGES, stream=False, max_tokens=50)
    assert plain.text == ANSWER and not plain.estimated
    assert fake.requests[-1]["body"]["max_tokens"] == 50 and "stream_options" not in fake.requests[-1]["body"]
    pieces = []
    ignored = stream_chat(conn(fake, "no-stream"), MESSAGES, on_delta=pieces.append)
    assert ignored.text == ANSWER and pieces == [ANSWER] and not ignored.estimated


def test_without_reported_usage_the_tokens_are_estimated_from_the_text(fake):
    result = stream_chat(conn(fake, "no-usage"), MESSAGES)
    assert result.text == ANSWER and result.estimated
    assert result.tokens_out == math.ceil(len(ANSWER) / 4)
    assert result.tokens_in == math.ceil(len(MESSAGES[0]["content"]) / 4)


@pytest.mark.parametrize("model, code", [("unauthorized", "auth"), ("forbidden", "forbidden"), ("missing", "not_found"),
                                         ("busy", "rate_limited"), ("broken", "server"), ("malformed", "malformed"),
                                         ("empty", "empty")])
def test_each_failure_has_its_code(fake, model, code):
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, model), MESSAGES)
    assert caught.value.code == code


def test_a_wrong_key_is_an_auth_failure_and_no_key_sends_no_header(fake):
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, api_key="sk-wrong"), MESSAGES)
    assert caught.value.code == "auth" and "401" in caught.value.detail
    with pytest.raises(ProviderError):
        stream_chat(conn(fake, api_key=None), MESSAGES)
    assert "Authorization" not in fake.requests[-1]["headers"]


def test_a_stream_cut_halfway_keeps_what_came(fake):
    pieces = []
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, "cut"), MESSAGES, on_delta=pieces.append)
    assert caught.value.code == "stopped"
    assert caught.value.partial and ANSWER.startswith(caught.value.partial) and len(caught.value.partial) < len(ANSWER)
    assert "".join(pieces) == caught.value.partial


def test_a_stall_ends_with_a_timeout_after_the_read_timeout(fake):
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, "stall", read_timeout=0.5), MESSAGES)
    assert caught.value.code == "timeout" and caught.value.partial  # the first piece had come
    assert time.monotonic() - started < 15  # not the model's 30 s


def test_the_total_time_limit_holds_even_while_pieces_keep_coming(fake):
    fake.slow_seconds = 30  # a piece every 2.5 s: each arrives within the read timeout, the whole takes 30 s
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, "slow", total_timeout=3, read_timeout=5), MESSAGES)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 15  # not the model's 30 s


def test_an_answer_over_the_limit_is_cut_there(fake):
    result = stream_chat(conn(fake, "long"), MESSAGES, max_chars=1000)
    assert result.truncated and len(result.text) == 1000 and result.estimated
    whole = stream_chat(conn(fake, "long"), MESSAGES, max_chars=1000, stream=False)
    assert whole.truncated and len(whole.text) == 1000
    exact = stream_chat(conn(fake), MESSAGES, max_chars=len(ANSWER))
    assert not exact.truncated and exact.text == ANSWER


def test_on_delta_returning_false_cancels(fake):
    seen = []

    def on_delta(piece):
        seen.append(piece)
        return len(seen) < 2

    with pytest.raises(Cancelled):
        stream_chat(conn(fake), MESSAGES, on_delta=on_delta)
    assert len(seen) == 2


def test_nothing_listening_is_a_network_failure(fake):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake, base_url=f"http://127.0.0.1:{port}/v1"), MESSAGES)
    assert caught.value.code == "network"


def test_test_connection_says_what_is_wrong(app, fake):
    with app.test_request_context():
        ok, message = test_connection(conn(fake))
        assert ok and "ok" in message
        ok, message = test_connection(conn(fake, api_key="sk-wrong"))
        assert not ok and "API key" in message
        ok, message = test_connection(conn(fake, "missing"))
        assert not ok and "base URL" in message
        ok, message = test_connection(conn(fake, "stall", read_timeout=0.3))
        assert ok  # a whole answer (no stream) comes at once; the stall is the stream's


def test_an_address_the_guard_refuses_is_named_as_such(fake, monkeypatch):
    import httpx

    from leadthe.lab import outbound

    class RefusedAddress(httpx.ConnectError):
        pass

    def refusing_client(conn):
        raise RefusedAddress("10.0.0.1 is a private address")

    monkeypatch.setattr(outbound, "RefusedAddress", RefusedAddress, raising=False)
    monkeypatch.setattr(outbound, "client", refusing_client)
    with pytest.raises(ProviderError) as caught:
        stream_chat(conn(fake), MESSAGES)
    assert caught.value.code == "refused_address"
